// Passkeys (WebAuthn) on the login and account pages. The server puts the options it made
// (webauthn-rs JSON, binary fields base64url) in a form's data-options; this script turns
// them into what navigator.credentials wants, and posts the answer back in that form.
// Without this script (or without WebAuthn) the pages work as before, for passwords.
'use strict';
(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  const fromB64u = (s) => {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=');
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  };
  const toB64u = (buf) => {
    if (!buf) return null;
    let bin = '';
    for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64u(c.id) }));

  const requestOptions = (form) => {
    const o = JSON.parse(form.dataset.options).publicKey;
    o.challenge = fromB64u(o.challenge);
    o.allowCredentials = withIds(o.allowCredentials);
    delete o.hints;
    return o;
  };
  const creationOptions = (form) => {
    const o = JSON.parse(form.dataset.options).publicKey;
    o.challenge = fromB64u(o.challenge);
    o.user.id = fromB64u(o.user.id);
    o.excludeCredentials = withIds(o.excludeCredentials);
    delete o.hints;
    return o;
  };

  const assertionJson = (cred) => JSON.stringify({
    id: cred.id,
    rawId: toB64u(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: toB64u(cred.response.authenticatorData),
      clientDataJSON: toB64u(cred.response.clientDataJSON),
      signature: toB64u(cred.response.signature),
      userHandle: toB64u(cred.response.userHandle),
    },
    extensions: {},
  });
  const attestationJson = (cred) => JSON.stringify({
    id: cred.id,
    rawId: toB64u(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: toB64u(cred.response.attestationObject),
      clientDataJSON: toB64u(cred.response.clientDataJSON),
      transports: cred.response.getTransports ? cred.response.getTransports() : undefined,
    },
    extensions: {},
  });

  const submitWith = (form, json) => {
    form.elements.credential.value = json;
    form.submit();
  };

  document.addEventListener('DOMContentLoaded', () => {
    const signIn = document.getElementById('passkey-form');
    const button = document.getElementById('passkey-button');
    if (signIn && button) {
      // After the identifier: a passkey on request, offered to everyone alike.
      document.getElementById('passkey-or').hidden = false;
      button.hidden = false;
      button.addEventListener('click', async () => {
        try {
          const cred = await navigator.credentials.get({ publicKey: requestOptions(signIn) });
          if (cred) submitWith(signIn, assertionJson(cred));
        } catch (e) {
          // Cancelled or refused by the browser: the page stays as it is.
        }
      });
    } else if (signIn) {
      // The identifier step: the browser's autofill offers passkeys (conditional mediation).
      (async () => {
        const can = PublicKeyCredential.isConditionalMediationAvailable
          && await PublicKeyCredential.isConditionalMediationAvailable();
        if (!can) return;
        try {
          const cred = await navigator.credentials.get({
            publicKey: requestOptions(signIn),
            mediation: 'conditional',
          });
          if (cred) submitWith(signIn, assertionJson(cred));
        } catch (e) {
          // Aborted (the user typed an address instead): nothing to do.
        }
      })();
    }

    const register = document.getElementById('passkey-register');
    const add = document.getElementById('passkey-add');
    if (register && add) {
      add.hidden = false;
      register.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          const cred = await navigator.credentials.create({ publicKey: creationOptions(register) });
          if (cred) submitWith(register, attestationJson(cred));
        } catch (e) {
          // Cancelled, or the authenticator already holds one (excludeCredentials).
        }
      });
    }
  });
})();
