/**
 * The Slack app manifest, as TypeScript so tsc checks it against the Manifest type of
 * @slack/web-api (the arguments of apps.manifest.create). manifests/slack.yaml is rendered from it
 * (`npx tsx manifests/generate.ts`), and a test fails when the two differ.
 *
 * The request URLs are placeholders for the HTTP receiver: replace https://postmaster.example.com
 * with your public URL. For Socket Mode, see the note at the top of slack.yaml.
 */
import type { webApi } from '@slack/bolt';

/** @slack/web-api's Manifest type (reached through Bolt, which depends on it). */
type Manifest = webApi.AppsManifestCreateArguments['manifest'];

/** Where Slack sends commands, interactions and events: the HTTP receiver's one endpoint. */
export const REQUEST_URL = 'https://postmaster.example.com/slack/events';

export const SLACK_COMMANDS = ['/offboard', '/forward', '/mailaudit'] as const;

export const manifest = {
  display_information: {
    name: 'Postmaster',
    description: 'Offboard mailboxes with a second approver, and keep mail forwarding in check.',
    long_description:
      'Postmaster is a chat-ops bot for mail administrators. /offboard opens a form for the plan (backup, forward, auto-reply, disable, delete), posts it for approval, runs it step by step against the mail system once a second person approves, reports progress in the thread and writes a summary to the audit channel. /forward manages forwarding rules with guardrails, and /mailaudit reports on every forward in the domain.',
    background_color: '#1d3557',
  },
  features: {
    app_home: {
      home_tab_enabled: true,
      messages_tab_enabled: true,
      messages_tab_read_only_enabled: true,
    },
    bot_user: {
      display_name: 'postmaster',
      always_online: true,
    },
    slash_commands: [
      {
        command: '/offboard',
        url: REQUEST_URL,
        description: 'Offboard a mailbox: plan, second approver, run, audit',
        usage_hint: 'alice | alice@example.com | @alice | status <id> | list | help',
        // Escaping turns "@alice" into <@U123|alice>, which users.info resolves to an email.
        should_escape: true,
      },
      {
        command: '/forward',
        url: REQUEST_URL,
        description: 'Show or change forwarding rules, with guardrails',
        usage_hint: 'alice | alice to bob@example.com | help',
        should_escape: true,
      },
      {
        command: '/mailaudit',
        url: REQUEST_URL,
        description: 'The forwarding audit report, now',
        usage_hint: '[help]',
        should_escape: false,
      },
    ],
  },
  oauth_config: {
    scopes: {
      bot: [
        'commands', // the slash commands
        'chat:write', // request messages, thread progress, the audit summary, ephemerals
        'im:write', // DMs to requesters and approvers (conversations.open)
        'users:read', // users.info for /offboard @alice
        'users:read.email', // ...and that user's profile email
        'files:write', // the audit report's CSV (files.uploadV2)
      ],
    },
  },
  settings: {
    event_subscriptions: {
      request_url: REQUEST_URL,
      bot_events: ['app_home_opened'],
    },
    interactivity: {
      is_enabled: true,
      request_url: REQUEST_URL,
    },
    org_deploy_enabled: false,
    socket_mode_enabled: false,
    token_rotation_enabled: false,
  },
} satisfies Manifest;

export const YAML_HEADER = `# Postmaster's Slack app manifest. Create the app from it at https://api.slack.com/apps
# ("Create New App" -> "From a manifest"). Generated from manifests/slack-manifest.ts by
# \`npx tsx manifests/generate.ts\`: edit the TypeScript, not this file.
#
# HTTP (the default): replace https://postmaster.example.com with the public URL of the host that
# runs Postmaster (PORT, path /slack/events) in every url and request_url below.
#
# Socket Mode (no public URL): set settings.socket_mode_enabled to true (the request URLs are then
# ignored), create an app-level token with the connections:write scope on the Basic Information
# page, and set it as SLACK_APP_TOKEN. See docs/slack.md.
`;
