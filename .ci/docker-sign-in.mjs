// Run by .ci/docker-smoke.sh inside the API container of the compose `emulator` profile's setup (the API sharing
// the emulator container's network namespace): a browser's "Continue with Microsoft" round trip, then /api/v1/me.
// Node's fetch trusts the emulator through the container's NODE_EXTRA_CA_CERTS, as the service does.
const base = process.env.APP_BASE_URL ?? 'http://localhost:3000';
const fail = (message) => {
  console.error(`sign-in check: ${message}`);
  process.exit(1);
};
const cookie = (response, name) => {
  const found = response.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
  return found ? found.split(';')[0] : undefined;
};

const login = await fetch(`${base}/auth/microsoft/login?login_hint=adele@contoso.com`, {
  redirect: 'manual',
});
const authorize = login.headers.get('location');
if (login.status !== 302 || !authorize?.startsWith('https://127.0.0.1:'))
  fail(`login answered ${login.status} ${authorize}`);
const flow = cookie(login, 'ms_auth_flow');

const microsoft = await fetch(authorize, { redirect: 'manual' });
const callback = microsoft.headers.get('location');
if (microsoft.status !== 302 || !callback?.startsWith(`${base}/auth/microsoft/callback?`))
  fail(`the emulator's authorize answered ${microsoft.status} ${callback}`);

const back = await fetch(callback, { redirect: 'manual', headers: flow ? { cookie: flow } : {} });
const session = cookie(back, 'session');
if (back.status !== 302 || !session)
  fail(`the callback answered ${back.status} ${back.headers.get('location')}`);

const me = await fetch(`${base}/api/v1/me`, { headers: { cookie: session } });
const body = await me.json();
if (me.status !== 200) fail(`/api/v1/me answered ${me.status} ${JSON.stringify(body)}`);
console.log(
  `signed in through the emulator as ${body.email ?? body.user?.email ?? JSON.stringify(body).slice(0, 80)}`,
);
