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
  await (c as any).exec('UID FETCH', [{ type: 'SEQUENCE', value: `1:${box.uidNext - 1}` }, [{ type: 'ATOM', value: 'UID' }, { type: 'ATOM', value: 'INTERNALDATE' }, { type: 'ATOM', value: 'BODY.PEEK', section: [] }]], {
    untagged: { FETCH: (u: any) => { const a = u.attributes[1]; for (let i = 0; i < a.length; i += 2) { if (a[i].value === 'BODY') { n++; bytes += a[i+1].value.length; } } } },
  });
}
await c.logout();
console.log('bare2', n, bytes, ((performance.now() - t) / 1000).toFixed(2), 's', (process.resourceUsage().maxRSS / 1024).toFixed(0), 'MB');
