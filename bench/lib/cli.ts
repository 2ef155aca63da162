/** What every benchmark shares: reading its numeric flags, and starting a measured child process. */
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `--name N` from argv, a positive whole number, or the fallback. */
export function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} needs a positive whole number`);
    process.exit(2);
  }
  return value;
}

/** How to start a benchmark child: node on a bundle, or node with the tsx loader. */
export interface ChildCommand {
  args: string[];
  label: string;
}

/**
 * Bundles a child entry to one ESM file next to a node_modules link, so plain node runs it: a
 * child's peak RSS should be the code's own, not tsx's (about 45 MB more). esbuild is tsx's own
 * dependency; without it, the child runs under tsx and says so.
 */
export async function prepareChild(entry: string, dir: string, useTsx: boolean): Promise<ChildCommand> {
  const viaTsx = { args: ['--import', 'tsx', entry], label: 'node --import tsx' };
  if (useTsx) return viaTsx;
  try {
    const specifier = 'esbuild';
    const esbuild = (await import(specifier)) as { build(options: Record<string, unknown>): Promise<unknown> };
    await mkdir(dir, { recursive: true });
    await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const outfile = path.join(dir, `${path.basename(entry, '.ts')}.mjs`);
    await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
    return { args: [outfile], label: 'node (bundled JS)' };
  } catch (error) {
    console.error(`could not bundle ${path.basename(entry)} (${(error as Error).message}); running it under tsx`);
    return viaTsx;
  }
}

/** True when `--name` is on the command line (a switch without a value). */
export function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}
