/** Writes manifests/slack.yaml from manifests/slack-manifest.ts. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manifest, YAML_HEADER } from './slack-manifest.js';
import { renderYaml } from './render-yaml.js';

const target = fileURLToPath(new URL('./slack.yaml', import.meta.url));
writeFileSync(target, renderYaml(manifest, YAML_HEADER));
process.stdout.write(`wrote ${target}\n`);
