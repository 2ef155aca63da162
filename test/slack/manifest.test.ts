/**
 * manifests/slack.yaml is the rendering of manifests/slack-manifest.ts (which tsc checks against
 * @slack/web-api's Manifest type), and it holds every command, scope and setting the app uses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifest, REQUEST_URL, SLACK_COMMANDS, YAML_HEADER } from '../../manifests/slack-manifest.js';
import { renderYaml } from '../../manifests/render-yaml.js';

describe('the Slack app manifest', () => {
  it('slack.yaml is exactly the rendering of slack-manifest.ts (run `npx tsx manifests/generate.ts`)', () => {
    expect(readFileSync('manifests/slack.yaml', 'utf8')).toBe(renderYaml(manifest, YAML_HEADER));
  });

  it('declares every command, with escaping for the ones that take @user', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([...SLACK_COMMANDS]);
    expect(manifest.features.slash_commands.find((c) => c.command === '/offboard')).toMatchObject({ should_escape: true, url: REQUEST_URL });
  });

  it('asks for the scopes of every Web API method the app calls', () => {
    // chat.postMessage/update/postEphemeral -> chat:write; conversations.open (DMs) -> im:write;
    // users.info with the email -> users:read + users:read.email; files.uploadV2 -> files:write.
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'im:write', 'users:read', 'users:read.email', 'files:write']));
  });

  it('turns on interactivity, the Home tab and app_home_opened, all on the one endpoint', () => {
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: REQUEST_URL });
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(REQUEST_URL.endsWith('/slack/events')).toBe(true);
  });

  it('renders YAML that quotes what must be quoted', () => {
    expect(renderYaml({ a: 'chat:write', b: '#fff', c: 'yes', d: 'plain text', e: ['x'], f: [{ g: 1, h: true }] })).toBe(
      'a: "chat:write"\nb: "#fff"\nc: "yes"\nd: plain text\ne:\n  - x\nf:\n  - g: 1\n    h: true\n',
    );
  });
});
