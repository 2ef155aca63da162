/**
 * A small client for Alibaba Mail's Open API (see docs/alimail-contract.md):
 * - OAuth2 client credentials; the token is cached and refreshed shortly before it expires, and a
 *   401 drops it, fetches a new one and sends the request once more;
 * - every request (the token request too) passes the client-side rate limiter;
 * - 429 honours Retry-After, or backs off exponentially with jitter; 5xx and network failures back
 *   off the same way; anything else fails at once with the server's reason.
 * The token and the client secret never leave this module: they are not logged and not put into
 * error messages.
 */
import pRetry, { AbortError } from 'p-retry';
import type PQueue from 'p-queue';
import type { Logger } from '../../logger.js';
import { PostmasterError } from '../../core/errors.js';
import { apiError, parseErrorBody } from './api-errors.js';
import { createRateLimiter } from './limiter.js';

export interface AlimailClientOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Client-side limit, requests per second (Alibaba allows 40 per domain, shared by every app). */
  requestsPerSecond: number;
  /** Attempts after the first for 429, 5xx and network failures. */
  retries?: number;
  /** Cap for one back-off wait without Retry-After, ms. */
  maxBackoffMs?: number;
  timeoutMs?: number;
  logger?: Logger | undefined;
}

export interface RequestOptions {
  query?: Record<string, string | number> | undefined;
  json?: unknown;
}

export interface ClientStats {
  /** HTTP requests sent, token requests and retries included. */
  sent: number;
  /** 429 answers received. */
  throttled: number;
  tokensFetched: number;
}

interface CachedToken {
  value: string;
  /** Date.now() after which the token is not used any more (a margin before its real expiry). */
  refreshAt: number;
}

/** A failure worth another attempt, after waitMs when the server said how long. */
class Retryable extends Error {
  constructor(
    override readonly cause: PostmasterError,
    readonly waitMs: number | undefined,
  ) {
    super(cause.message);
  }
}

const DEFAULT_RETRIES = 6;
const BASE_BACKOFF_MS = 250;

export class AlimailClient {
  readonly stats: ClientStats = { sent: 0, throttled: 0, tokensFetched: 0 };
  private readonly limiter: PQueue;
  private readonly baseUrl: string;
  private token: CachedToken | undefined;
  private pendingToken: Promise<CachedToken> | undefined;

  constructor(private readonly options: AlimailClientOptions) {
    this.limiter = createRateLimiter(options.requestsPerSecond);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const label = `${method} ${path}`;
    return pRetry(() => this.attempt<T>(method, path, options, label), {
      retries: this.options.retries ?? DEFAULT_RETRIES,
      // The wait is ours (Retry-After or jittered back-off, below); p-retry only counts attempts.
      minTimeout: 0,
      maxTimeout: 0,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof Retryable) || retriesLeft === 0) return;
        const wait = error.waitMs ?? this.backoff(attemptNumber);
        this.options.logger?.debug({ request: label, attempt: attemptNumber, waitMs: wait }, 'Alibaba Mail asked us to slow down or failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, wait));
      },
    }).catch((error: unknown) => {
      throw error instanceof Retryable ? error.cause : error;
    });
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** Stops accepting new requests (queued ones are dropped). */
  close(): void {
    this.limiter.clear();
  }

  private async attempt<T>(method: string, path: string, options: RequestOptions, label: string): Promise<T> {
    let token = await this.accessToken();
    let response = await this.send(method, path, options, token.value);
    if (response.status === 401) {
      // The token may have expired early or been revoked: one fresh token, one more try.
      await response.body?.cancel();
      if (this.token === token) this.token = undefined;
      token = await this.accessToken();
      response = await this.send(method, path, options, token.value);
    }
    const text = await response.text();
    if (response.ok) return (text ? JSON.parse(text) : {}) as T;
    throw this.failure(response, text, label);
  }

  private failure(response: Response, text: string, label: string): Error {
    const error = apiError(response.status, parseErrorBody(text), label);
    if (response.status === 429) {
      this.stats.throttled++;
      return new Retryable(error, retryAfterMs(response.headers.get('retry-after')));
    }
    if (response.status >= 500) return new Retryable(error, undefined);
    return new AbortError(error);
  }

  private async send(method: string, path: string, options: RequestOptions, token: string): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `bearer ${token}`, accept: 'application/json' };
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    return this.fetchLimited(url, { method, headers, body }, `${method} ${path}`);
  }

  private async fetchLimited(url: URL, init: RequestInit, label: string): Promise<Response> {
    const started = Date.now();
    const response = await this.limiter.add(async () => {
      this.stats.sent++;
      try {
        return await fetch(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000) });
      } catch (error) {
        const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : `could not be reached (${causeOf(error)})`;
        throw new Retryable(
          new PostmasterError('Unavailable', `Alibaba Mail at ${this.baseUrl} ${reason} during ${label}`, { hint: 'check ALIMAIL_REGION or ALIMAIL_BASE_URL and the network', cause: error }),
          undefined,
        );
      }
    });
    this.options.logger?.debug({ request: label, status: response.status, ms: Date.now() - started }, 'Alibaba Mail API call');
    return response;
  }

  private async accessToken(): Promise<CachedToken> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token;
    // One token request at a time: a burst of calls must not fetch a token each.
    this.pendingToken ??= this.fetchToken().finally(() => {
      this.pendingToken = undefined;
    });
    return (this.token = await this.pendingToken);
  }

  private async fetchToken(): Promise<CachedToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.options.clientId, client_secret: this.options.clientSecret });
    const label = 'POST /oauth2/v2.0/token';
    const response = await this.fetchLimited(new URL(`${this.baseUrl}/oauth2/v2.0/token`), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    }, label);
    const text = await response.text();
    if (!response.ok) {
      const failure = this.failure(response, text, label);
      // A 401 here means the credentials are wrong: trying again cannot help.
      throw response.status === 401 ? new AbortError(apiError(401, parseErrorBody(text), label)) : failure;
    }
    const body = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string' || !body.access_token) {
      throw new AbortError(new PostmasterError('ProviderError', `Alibaba Mail's token endpoint answered without an access_token`));
    }
    this.stats.tokensFetched++;
    const lifetimeMs = (Number(body.expires_in) > 0 ? Number(body.expires_in) : 3600) * 1000;
    // Refresh a little early: 10% of the lifetime, at most a minute.
    return { value: body.access_token, refreshAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10) };
  }

  /** Exponential back-off with full jitter (0.5x to 1x of the step), capped. */
  private backoff(attemptNumber: number): number {
    const step = Math.min(this.options.maxBackoffMs ?? 8_000, BASE_BACKOFF_MS * 2 ** (attemptNumber - 1));
    return Math.round(step * (0.5 + Math.random() / 2));
  }
}

/** Retry-After is either seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** A path segment: users are addressed by id or email, departments by id ($root included). */
export function segment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@').replace(/%24/g, '$');
}
