/**
 * Consumer mail services anyone can sign up for. Forwarding company mail there is the classic
 * leak, so the audit flags it even when the domain is allowlisted.
 */

const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  // Google, Microsoft, Yahoo, Apple, AOL
  'gmail.com', 'googlemail.com',
  'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'passport.com',
  'yahoo.com', 'ymail.com', 'rocketmail.com',
  'icloud.com', 'me.com', 'mac.com',
  'aol.com', 'aim.com',
  // privacy-focused and independent
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me',
  'tutanota.com', 'tutanota.de', 'tutamail.com', 'tuta.io', 'tuta.com',
  'fastmail.com', 'fastmail.fm', 'hey.com', 'zoho.com', 'zohomail.com', 'mail.com', 'email.com',
  'gmx.com', 'gmx.net', 'web.de', 't-online.de', 'freenet.de',
  'mail.ru', 'inbox.ru', 'list.ru', 'bk.ru', 'internet.ru', 'rambler.ru', 'ya.ru',
  'laposte.net', 'orange.fr', 'free.fr', 'sfr.fr', 'wanadoo.fr', 'libero.it', 'virgilio.it',
  'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl', 'onet.pl',
  // China
  'qq.com', 'foxmail.com', '163.com', '126.com', 'yeah.net', '188.com', 'netease.com',
  'sina.com', 'sina.cn', 'sina.com.cn', 'sohu.com', 'tom.com', '21cn.com',
  '139.com', '189.cn', 'wo.cn', 'aliyun.com',
  // Korea, Japan, India
  'naver.com', 'daum.net', 'hanmail.net', 'kakao.com', 'nate.com',
  'yahoo.co.jp', 'docomo.ne.jp', 'ezweb.ne.jp', 'softbank.ne.jp',
  'rediffmail.com',
]);

// Brands with one domain per country: gmx.de, yandex.ru, hotmail.co.uk, yahoo.com.tw, live.cn...
// Anchored to a country-code ending so that e.g. "live.example.com" does not match.
const FREE_MAIL_FAMILIES = /^(?:gmx|yandex|hotmail|outlook|live|yahoo|windowslive)\.(?:(?:co|com|ne|or)\.)?[a-z]{2,3}$/;

/**
 * True for a free-mail domain or one of its subdomains (vip.163.com, vip.qq.com are paid tiers of
 * the same consumer services).
 */
export function isFreeMail(domain: string): boolean {
  let candidate = domain.trim().toLowerCase().replace(/\.$/, '');
  for (;;) {
    if (FREE_MAIL_DOMAINS.has(candidate) || FREE_MAIL_FAMILIES.test(candidate)) return true;
    const dot = candidate.indexOf('.');
    if (dot < 0 || candidate.indexOf('.', dot + 1) < 0) return false;
    candidate = candidate.slice(dot + 1);
  }
}
