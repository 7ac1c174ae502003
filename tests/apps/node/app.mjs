// A Node web application that signs its users in at idbroker with openid-client 6 (the
// authorization code flow with PKCE, a confidential client). The part between the ANCHOR
// lines is the snippet of docs/src/connecting/libraries.md; tests/it/apps.rs runs this file
// against the real idbroker binary and checks the page still shows exactly that part.
//
// Environment: IDBROKER_ISSUER, CLIENT_ID, CLIENT_SECRET, APP_PORT. With TEST_USER and
// TEST_PASSWORD set, the script also plays the user's browser once (below the snippet), prints
// what the application saw, and exits.

// ANCHOR: snippet
import http from 'node:http';
import * as oidc from 'openid-client';

const issuer = new URL(process.env.IDBROKER_ISSUER); // e.g. https://id.example.com
const port = Number(process.env.APP_PORT || 3000);
const redirectUri = `http://127.0.0.1:${port}/callback`; // registered in the broker's policy

// Discovery: every endpoint and the signing keys come from the issuer.
const config = await oidc.discovery(
  issuer,
  process.env.CLIENT_ID,
  process.env.CLIENT_SECRET,
  undefined,
  // Plain http is only for an issuer on 127.0.0.1 during development.
  issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
);

// One sign-in in progress per `state`; a real application keeps this in its session.
const pending = new Map();

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, redirectUri);
  try {
    if (url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      pending.set(state, { verifier, nonce });
      const to = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      res.writeHead(302, { location: to.href }).end();
    } else if (url.pathname === '/callback') {
      const state = url.searchParams.get('state');
      const started = pending.get(state);
      pending.delete(state);
      if (!started) throw new Error('unknown state');
      // Redeems the code (client_secret_post) and verifies the ID token: signature against
      // the broker's /jwks, iss, aud, exp, nonce; and the `iss` of the redirect (RFC 9207).
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: started.verifier,
        expectedState: state,
        expectedNonce: started.nonce,
      });
      const claims = tokens.claims();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`signed in: sub=${claims.sub} email=${claims.email}\n`);
    } else {
      res.writeHead(404).end();
    }
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`sign-in failed: ${e.message}\n`);
  }
});
server.listen(port, '127.0.0.1');
// ANCHOR_END: snippet

// The test's browser: starts at the application's /login, signs in on the broker's login page
// (email, then password) with plain HTTP requests and cookies, and comes back to /callback.
if (process.env.TEST_USER) {
  const cookies = new Map();
  const go = async (target, form) => {
    const res = await fetch(target, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  };
  const follow = async (res) => {
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops > 10) throw new Error('redirect loop');
      res = await go(new URL(res.headers.get('location'), res.url || issuer).href);
    }
    return res;
  };
  const field = (html, name) => {
    const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
    if (!m) throw new Error(`no field ${name} in:\n${html}`);
    return m[1].replaceAll('&#x2f;', '/').replaceAll('&amp;', '&');
  };
  try {
    await new Promise((resolve) => server.listening ? resolve() : server.once('listening', resolve));
    // The application's /login sends the browser to the broker's /authorize, then its login page.
    let login = await go(`http://127.0.0.1:${port}/login`);
    let location = new URL(login.headers.get('location'));
    login = await follow(await go(location.href));
    const page = await login.text();
    const tx = field(page, 'tx');
    const csrf = field(page, 'csrf');
    const step = await go(new URL('/login/identifier', issuer).href, {
      tx, csrf, identifier: process.env.TEST_USER,
    });
    if (step.status !== 200) throw new Error(`identifier step: ${step.status}`);
    const back = await go(new URL('/login/password', issuer).href, {
      tx, csrf, password: process.env.TEST_PASSWORD,
    });
    location = back.headers.get('location');
    if (!location || !location.startsWith(redirectUri)) {
      throw new Error(`the broker did not send the browser back: ${back.status} ${await back.text()}`);
    }
    const done = await go(location);
    process.stdout.write(await done.text());
    process.exitCode = done.status === 200 ? 0 : 1;
  } catch (e) {
    console.error(`test browser: ${e.stack || e}`);
    process.exitCode = 1;
  } finally {
    server.close();
  }
}
