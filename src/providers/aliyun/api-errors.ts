/**
 * Alibaba Mail's error bodies ({detailErrorCode, message, developerMessage}, and RFC 6749's
 * {error, error_description} from the token endpoint) turned into errors an admin can act on.
 */
import { PostmasterError, type ErrorCode } from '../../core/errors.js';

export interface ApiErrorBody {
  detailErrorCode?: string;
  message?: string;
  developerMessage?: string;
  error?: string;
  error_description?: string;
}

const CONSOLE_APP_PAGE = '高级应用 → API 开放平台 (Advanced → Open API platform)';

const BY_STATUS: Record<number, { code: ErrorCode; hint?: string }> = {
  400: { code: 'ProviderError' },
  401: { code: 'ProviderError', hint: `check ALIMAIL_CLIENT_ID and ALIMAIL_CLIENT_SECRET, and that the app is enabled in the admin console under ${CONSOLE_APP_PAGE}` },
  403: { code: 'ProviderError', hint: `grant the app read and write access to users and departments under ${CONSOLE_APP_PAGE}` },
  404: { code: 'NotFound' },
  409: { code: 'Conflict' },
  429: { code: 'Unavailable', hint: 'Alibaba Mail allows 40 requests/s per domain, shared by every app; try again in a minute, or lower ALIMAIL_RATE_LIMIT if other apps use the API too' },
};

/** Reads an error body without trusting it to be JSON. */
export function parseErrorBody(text: string): ApiErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as ApiErrorBody) : {};
  } catch {
    return {};
  }
}

export function apiError(status: number, body: ApiErrorBody, request: string): PostmasterError {
  const { code, hint } = BY_STATUS[status] ?? { code: status >= 500 ? 'Unavailable' : 'ProviderError' };
  const reason = body.message ?? body.error_description ?? body.error ?? (status >= 500 ? 'the service is unavailable' : 'no reason given');
  const detail = body.detailErrorCode ?? body.error;
  const developer = body.developerMessage && body.developerMessage !== reason ? `; ${body.developerMessage}` : '';
  return new PostmasterError(code, `Alibaba Mail answered ${request} with HTTP ${status}${detail ? ` ${detail}` : ''}: ${reason}${developer}`, { hint });
}
