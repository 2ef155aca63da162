/**
 * Every user of the organisation, found by walking the department tree from $root. The docs do not
 * say whether a department's user list includes its sub-departments, so the whole tree is walked
 * and users are deduplicated by id. Pages of one listing are fetched concurrently once the first
 * page tells the total; the client's rate limiter, not this walk, sets the pace.
 */
import { segment, type AlimailClient } from './client.js';

export interface AlimailUser {
  id: string;
  email: string;
  name?: string;
  status: 'NORMAL' | 'FREEZE' | string;
  departmentIds?: string[];
  lastLoginTime?: string;
}

interface Department {
  id: string;
  /** Absent means "not said": then the listing is fetched to find out. */
  hasSubDepartments?: boolean;
  hasUsers?: boolean;
}

export const ROOT_DEPARTMENT = '$root';
const PAGE_SIZE = 100;

export async function listDirectoryUsers(client: AlimailClient): Promise<AlimailUser[]> {
  const users = new Map<string, AlimailUser>();
  const visited = new Set<string>();

  const visit = async (department: Department): Promise<void> => {
    if (visited.has(department.id)) return;
    visited.add(department.id);
    const base = `/v2/departments/${segment(department.id)}`;
    const [children] = await Promise.all([
      department.hasSubDepartments === false ? [] : allPages<Department>(client, `${base}/subDepartments`, 'departments'),
      department.hasUsers === false
        ? undefined
        : allPages<AlimailUser>(client, `${base}/users`, 'users').then((found) => {
            for (const user of found) users.set(user.id, user);
          }),
    ]);
    await Promise.all(children.map(visit));
  };

  await visit({ id: ROOT_DEPARTMENT });
  return [...users.values()];
}

async function allPages<T>(client: AlimailClient, path: string, key: 'departments' | 'users'): Promise<T[]> {
  type Page = { total?: number } & Partial<Record<typeof key, T[]>>;
  const first = await client.get<Page>(path, { offset: 0, limit: PAGE_SIZE });
  const items = [...(first[key] ?? [])];
  const total = first.total ?? items.length;
  const rest: Promise<Page>[] = [];
  for (let offset = PAGE_SIZE; offset < total; offset += PAGE_SIZE) rest.push(client.get<Page>(path, { offset, limit: PAGE_SIZE }));
  for (const page of await Promise.all(rest)) items.push(...(page[key] ?? []));
  return items;
}
