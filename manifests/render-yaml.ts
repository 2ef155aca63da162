/**
 * Just enough YAML to write the manifest: maps, lists and scalars in block style. Strings are
 * written plain when YAML reads them back unchanged, double-quoted (JSON syntax, which YAML
 * accepts) otherwise.
 */
type Value = string | number | boolean | null | undefined | Value[] | { [key: string]: Value };

const PLAIN = /^[A-Za-z/][\w ./@()'-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value !== 'string') return String(value);
  return PLAIN.test(value) && !RESERVED.test(value) && !value.endsWith(' ') ? value : JSON.stringify(value);
}

const isMap = (v: Value): v is { [key: string]: Value } => typeof v === 'object' && v !== null && !Array.isArray(v);

function lines(value: Value, indent: string): string[] {
  const out: string[] = [];
  if (isMap(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue;
      if (isMap(child) || (Array.isArray(child) && child.length)) {
        out.push(`${indent}${key}:`);
        out.push(...lines(child, `${indent}  `));
      } else {
        out.push(`${indent}${key}: ${Array.isArray(child) ? '[]' : scalar(child as string)}`);
      }
    }
    return out;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isMap(item)) {
        const [first, ...rest] = lines(item, `${indent}  `);
        out.push(`${indent}- ${first!.trimStart()}`, ...rest);
      } else {
        out.push(`${indent}- ${scalar(item as string)}`);
      }
    }
    return out;
  }
  return [`${indent}${scalar(value as string)}`];
}

export function renderYaml(value: Value, header = ''): string {
  return `${header}${lines(value, '').join('\n')}\n`;
}
