/**
 * Plays Slack's part towards the app: signs requests the way Slack does (`v0=` HMAC-SHA256 of
 * `v0:<timestamp>:<raw body>`, https://docs.slack.dev/authentication/verifying-requests-from-slack)
 * and posts slash commands, block_actions, view_submission and events payloads to the real Bolt
 * app over HTTP. `fillView` turns a view the app sent into the `state.values` Slack would send back
 * when a person filled it in.
 */
import { createHmac } from 'node:crypto';

export function sign(secret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface Sent {
  status: number;
  text: string;
  json: any;
  sentAt: number;
  /** When the response (the ack) arrived. */
  ackAt: number;
}

export interface PostOptions {
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Replaces the computed signature; null leaves the headers out. */
  signature?: string | null;
  secret?: string;
}

let triggerSeq = 0;

export class SlackSender {
  constructor(
    readonly eventsUrl: string,
    readonly signingSecret: string,
    readonly responseUrl: (n: number) => string,
  ) {}

  async post(body: string, contentType: string, options: PostOptions = {}): Promise<Sent> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { 'content-type': contentType };
    if (options.signature !== null) {
      headers['x-slack-request-timestamp'] = String(timestamp);
      headers['x-slack-signature'] = options.signature ?? sign(options.secret ?? this.signingSecret, timestamp, body);
    }
    const sentAt = Date.now();
    const response = await fetch(this.eventsUrl, { method: 'POST', headers, body });
    const ackAt = Date.now();
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json, sentAt, ackAt };
  }

  commandBody(user: string, text: string, options: { command?: string; channel?: string } = {}): { body: string; triggerId: string; responseUrl: string } {
    const n = ++triggerSeq;
    const triggerId = `${n}.1.trigger`;
    const responseUrl = this.responseUrl(n);
    const body = new URLSearchParams({
      token: 'verification-token-unused',
      team_id: 'T1',
      team_domain: 'test',
      channel_id: options.channel ?? 'CGENERAL',
      channel_name: 'general',
      user_id: user,
      user_name: user.toLowerCase(),
      command: options.command ?? '/offboard',
      text,
      api_app_id: 'A1',
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId,
    }).toString();
    return { body, triggerId, responseUrl };
  }

  async command(user: string, text: string, options: { command?: string; channel?: string } & PostOptions = {}): Promise<Sent & { triggerId: string; responseUrl: string }> {
    const { body, triggerId, responseUrl } = this.commandBody(user, text, options);
    const sent = await this.post(body, 'application/x-www-form-urlencoded', options);
    return { ...sent, triggerId, responseUrl };
  }

  async payload(payload: Record<string, unknown>, options: PostOptions = {}): Promise<Sent> {
    return this.post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', options);
  }

  /** A button click on a message (channel + ts) or on the Home tab (home: true). */
  async click(user: string, button: { actionId: string; value: string; channel?: string; messageTs?: string; home?: boolean; blockId?: string }, options: PostOptions = {}): Promise<Sent> {
    const n = ++triggerSeq;
    const base = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T1' },
      api_app_id: 'A1',
      token: 'verification-token-unused',
      team: { id: 'T1', domain: 'test' },
      trigger_id: `${n}.2.trigger`,
      response_url: this.responseUrl(n),
      actions: [{ type: 'button', action_id: button.actionId, block_id: button.blockId ?? 'b', value: button.value, text: { type: 'plain_text', text: 'x' }, action_ts: `${Date.now() / 1000}` }],
    };
    const where = button.home
      ? { container: { type: 'view', view_id: 'VHOME' }, view: { id: 'VHOME', type: 'home', blocks: [], state: { values: {} }, hash: 'h', private_metadata: '', callback_id: '' } }
      : {
          container: { type: 'message', message_ts: button.messageTs, channel_id: button.channel, is_ephemeral: false },
          channel: { id: button.channel, name: 'approvals' },
          message: { type: 'message', ts: button.messageTs, text: '' },
        };
    return this.payload({ ...base, ...where }, options);
  }

  /** An action from inside a modal (an input with dispatch_action). */
  async viewAction(user: string, view: SentView, actionId: string, blockId: string, values: Record<string, unknown>): Promise<Sent> {
    return this.payload({
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), team_id: 'T1' },
      api_app_id: 'A1',
      token: 'verification-token-unused',
      team: { id: 'T1', domain: 'test' },
      trigger_id: `${++triggerSeq}.3.trigger`,
      container: { type: 'view', view_id: view.id },
      view: { ...view.view, id: view.id, hash: view.hash, team_id: 'T1', state: { values: fillView(view.view, values) } },
      actions: [{ type: 'email_text_input', action_id: actionId, block_id: blockId, value: values[blockId], action_ts: `${Date.now() / 1000}` }],
    });
  }

  async submit(user: string, view: SentView, values: Record<string, unknown>, options: PostOptions = {}): Promise<Sent> {
    return this.payload(
      {
        type: 'view_submission',
        team: { id: 'T1', domain: 'test' },
        user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T1' },
        api_app_id: 'A1',
        token: 'verification-token-unused',
        trigger_id: `${++triggerSeq}.4.trigger`,
        view: {
          ...view.view,
          id: view.id,
          hash: view.hash,
          team_id: 'T1',
          app_id: 'A1',
          bot_id: 'BBOT',
          root_view_id: view.id,
          previous_view_id: null,
          clear_on_close: false,
          notify_on_close: false,
          state: { values: fillView(view.view, values) },
        },
      },
      options,
    );
  }

  async event(event: Record<string, unknown>, options: PostOptions = {}): Promise<Sent> {
    const body = JSON.stringify({
      token: 'verification-token-unused',
      team_id: 'T1',
      api_app_id: 'A1',
      event: { event_ts: `${Date.now() / 1000}`, ...event },
      type: 'event_callback',
      event_id: `Ev${++triggerSeq}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    });
    return this.post(body, 'application/json', options);
  }
}

/** A view as the app last sent it (views.open/update), with the id and hash Slack gave it. */
export interface SentView {
  id: string;
  hash: string;
  view: any;
}

/**
 * The state.values Slack sends for a view: every input block's element, with what the person
 * entered (`values[block_id]`, or for a versioned block the id without its `_vN` suffix) or else
 * the element's initial value.
 */
export function fillView(view: any, values: Record<string, unknown>): Record<string, Record<string, any>> {
  const state: Record<string, Record<string, any>> = {};
  for (const block of view.blocks ?? []) {
    if (block.type !== 'input') continue;
    const key = Object.hasOwn(values, block.block_id) ? block.block_id : String(block.block_id).replace(/_v\d+$/, '');
    const given = Object.hasOwn(values, key) ? values[key] : undefined;
    const element = block.element;
    let value: any;
    switch (element.type) {
      case 'plain_text_input':
      case 'email_text_input':
      case 'number_input':
        value = { type: element.type, value: given !== undefined ? given : (element.initial_value ?? null) };
        break;
      case 'checkboxes': {
        const chosen = given !== undefined ? (given as string[]) : (element.initial_options ?? []).map((o: any) => o.value);
        value = { type: 'checkboxes', selected_options: element.options.filter((o: any) => chosen.includes(o.value)) };
        break;
      }
      case 'radio_buttons': {
        const chosen = given !== undefined ? given : element.initial_option?.value;
        value = { type: 'radio_buttons', selected_option: element.options.find((o: any) => o.value === chosen) ?? null };
        break;
      }
      case 'datepicker':
        value = { type: 'datepicker', selected_date: given !== undefined ? given : (element.initial_date ?? null) };
        break;
      case 'datetimepicker':
        value = { type: 'datetimepicker', selected_date_time: given !== undefined ? given : (element.initial_date_time ?? null) };
        break;
      default:
        throw new Error(`fillView: no rule for ${element.type}`);
    }
    state[block.block_id] = { [element.action_id]: value };
  }
  return state;
}
