/**
 * The one check of every request Slack's HTTP receiver gets. A request must be signed (`v0=`
 * HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret,
 * https://docs.slack.dev/authentication/verifying-requests-from-slack) and its timestamp within
 * 5 minutes either way; anything else gets 401 before Bolt sees it. Bolt's own check is switched
 * off (`signatureVerification: false` in app.ts) because it is weaker, not stronger: it accepts a
 * timestamp from the future, so a captured request signed an hour ahead could be replayed for an
 * hour. Checking once also keeps one HMAC per request on the ack path instead of four (Bolt's
 * comparison hashes both sides again).
 *
 * With Bolt's check off, this guard also does the one other thing that check did: Slack's unsigned
 * SSL probe (`ssl_check=1`) reaches Bolt with nothing else in its body, so no payload can ride
 * along unsigned. The body is read here once and handed to Bolt as `rawBody`.
 *
 * Every refusal is reported to `onRefused` (the audit log), with the reason but never the signature
 * or the secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export const MAX_SKEW_SECONDS = 5 * 60;
const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024; // Bolt's default

export interface Refusal {
  reason: string;
  path: string;
  remoteAddress: string | undefined;
}

export interface GuardOptions {
  signingSecret: string;
  /** Paths that carry Slack requests (Bolt's endpoints); anything else passes through untouched. */
  endpoints?: string[];
  onRefused: (refusal: Refusal) => void;
  onError?: (error: unknown) => void;
  /** Told when a Slack request comes in and when its response has gone out (see AckGate). */
  gate?: { enter(): void; leave(): void };
  now?: () => number;
  bodyLimit?: number;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Why the request must be refused, or undefined when it is properly signed and fresh. */
export function refusalReason(options: { signingSecret: string; timestamp: string | undefined; signature: string | undefined; body: Buffer; nowMs: number }): string | undefined {
  const { timestamp, signature } = options;
  if (!timestamp || !signature) return 'unsigned: x-slack-signature or x-slack-request-timestamp missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'malformed x-slack-request-timestamp';
  const skew = Number(timestamp) - Math.floor(options.nowMs / 1000);
  if (skew > MAX_SKEW_SECONDS) return `timestamp ${skew} s in the future (more than ${MAX_SKEW_SECONDS} s)`;
  if (skew < -MAX_SKEW_SECONDS) return `stale timestamp, ${-skew} s old (more than ${MAX_SKEW_SECONDS} s)`;
  const match = /^v0=([0-9a-f]{64})$/.exec(signature);
  if (!match) return 'malformed signature (expected v0=<64 hex digits>)';
  const expected = createHmac('sha256', options.signingSecret).update(`v0:${timestamp}:`).update(options.body).digest();
  const given = Buffer.from(match[1]!, 'hex');
  if (!timingSafeEqual(expected, given)) return 'signature mismatch';
  return undefined;
}

/** Slack's unsigned SSL probe, which Bolt answers without dispatching it. */
function isSslCheck(req: IncomingMessage, body: Buffer): boolean {
  if (header(req, 'content-type') !== 'application/x-www-form-urlencoded' || !body.includes('ssl_check=1')) return false;
  return new URLSearchParams(body.toString('utf8')).get('ssl_check') === '1';
}

/** Wraps Bolt's HTTPReceiver request listener (see the module comment). */
export function guardRequests(inner: RequestListener, options: GuardOptions): RequestListener {
  const endpoints = options.endpoints ?? ['/slack/events'];
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const now = options.now ?? Date.now;

  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || !endpoints.includes(path)) {
      inner(req, res);
      return;
    }
    const remoteAddress = req.socket.remoteAddress;
    if (options.gate) {
      const gate = options.gate;
      gate.enter();
      let left = false;
      const leave = () => {
        if (!left) gate.leave();
        left = true;
      };
      res.once('finish', leave);
      res.once('close', leave);
    }
    const refuse = (reason: string) => {
      if (!res.headersSent) {
        res.writeHead(401);
        res.end();
      }
      options.onRefused({ reason, path, remoteAddress });
    };

    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(400);
        res.end();
      }
    });
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413);
        res.end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (isSslCheck(req, body)) {
        body = Buffer.from('ssl_check=1');
      } else {
        const reason = refusalReason({
          signingSecret: options.signingSecret,
          timestamp: header(req, 'x-slack-request-timestamp'),
          signature: header(req, 'x-slack-signature'),
          body,
          nowMs: now(),
        });
        if (reason) {
          refuse(reason);
          return;
        }
      }
      // Bolt reads the body from here instead of the (already consumed) stream.
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
      try {
        inner(req, res);
      } catch (error) {
        if (!res.headersSent) {
          res.writeHead(500);
          res.end();
        }
        options.onError?.(error);
      }
    });
  };
}
