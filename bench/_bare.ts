import { ImapFlow } from 'imapflow';
const job = JSON.parse(process.env.JOB!);
const t = performance.now();
const c = new ImapFlow({ host: job.login.host, port: job.login.port, secure: false, auth: { user: job.login.user, pass: job.login.password, authzid: job.login.authzid, loginMethod: 'AUTH=PLAIN' }, logger: false, disableAutoIdle: true, disableAutoEnable: true });
await c.connect();
let n = 0, bytes = 0;
for (const f of await c.list()) {
  if (f.flags.has('\\Noselect')) continue;
  const box = await c.mailboxOpen(f.path, { readOnly: true });
  if (!box.exists) continue;
  for await (const m of c.fetch(`1:${box.uidNext - 1}`, { uid: true, source: true, internalDate: true }, { uid: true })) { n++; bytes += m.source!.length; }
}
await c.logout();
console.log('bare', n, bytes, ((performance.now() - t) / 1000).toFixed(2), 's', (process.resourceUsage().maxRSS / 1024).toFixed(0), 'MB');
