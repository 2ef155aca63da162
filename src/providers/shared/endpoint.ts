/** imap:// 143, imaps:// 993 (RFC 8314), sieve:// 4190 (RFC 5804; sieves:// is implicit TLS on the same port). */
export function hostPort(url: string): { host: string; port: number; secure: boolean } {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'imaps:' || parsed.protocol === 'sieves:';
  const fallback = parsed.protocol.startsWith('imap') ? (secure ? 993 : 143) : 4190;
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : fallback, secure };
}
