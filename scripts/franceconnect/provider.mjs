// A local FranceConnect v2 stand-in, built on the independent OpenID provider `oidc-provider` (panva), for
// `make run` and the end-to-end tests. It speaks like FranceConnect v2: ES256-signed id_token and userinfo (as a
// JWT), `acr` eidas1, the pivot-identity claims per scope, a pairwise-looking `sub`, RP-initiated logout at
// /api/v2/session/end. Never for production: identities are picked from a list, without a password.
//
//   node scripts/franceconnect/provider.mjs CONFIG.json
//
// CONFIG.json: {"port", "issuer", "client": {"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris"},
//               "identities": {"<login>": {"label", "given_name", "family_name", ...}}, "keys": "<jwks file>",
//               "rotate": false}
// The signing keys are kept in the "keys" file (a private JWKS, created on the first start). With "rotate": true a
// new key is created at start and signs from then on; the old one stays published, as a provider rotating keys does.
// It prints "ready <issuer>" on stdout once it listens.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const identities = config.identities;

async function newKey() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'ES256', use: 'sig', kid: randomBytes(8).toString('hex') };
}

async function signingKeys() {
  let keys = existsSync(config.keys) ? JSON.parse(readFileSync(config.keys, 'utf8')).keys : [];
  if (keys.length === 0 || config.rotate) {
    keys = [await newKey(), ...keys].slice(0, 2); // the first key signs
    writeFileSync(config.keys, JSON.stringify({ keys }), { mode: 0o600 });
  }
  return keys;
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}button{margin:.3em 0;padding:.5em 1em}
.note{background:#fee;padding:.5em}</style></head><body>
<p class="note">FranceConnect — simulateur local (développement et tests). Aucune donnée réelle.</p>
<h1>${escape(title)}</h1>${body}</body></html>`;
}

const claimsOf = (login) => {
  const { label, ...claims } = identities[login];
  return claims;
};
// FranceConnect gives each service its own `sub` for a person: 64 hexadecimal characters. It is the account id here
// (oidc-provider puts the account id in `sub`); manage.py franceconnect_standin computes the same.
const subOf = (login) => createHash('sha256').update(`${login}:${config.client.client_id}`).digest('hex');
const loginOf = Object.fromEntries(Object.keys(identities).map((login) => [subOf(login), login]));

const provider = new Provider(config.issuer, {
  clients: [{
    ...config.client,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
    userinfo_signed_response_alg: 'ES256',
  }],
  jwks: { keys: await signingKeys() },
  acrValues: ['eidas1'],
  claims: {
    openid: ['sub'],
    given_name: ['given_name'],
    family_name: ['family_name'],
    birthdate: ['birthdate'],
    gender: ['gender'],
    birthplace: ['birthplace'],
    birthcountry: ['birthcountry'],
    email: ['email'],
    preferred_username: ['preferred_username'],
  },
  scopes: ['openid', 'given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry', 'email',
    'preferred_username'],
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // FranceConnect signs out without asking: the form submits itself.
      logoutSource: async (ctx, form) => {
        ctx.body = page('Déconnexion de FranceConnect', `${form.replace('</form>',
          '<input type="hidden" name="logout" value="yes"><button type="submit">Se déconnecter</button></form>')}
<script>document.forms[0].submit()</script>`);
      },
    },
  },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'], userinfoSigningAlgValues: ['ES256'] },
  pkce: { required: () => false },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  routes: {
    authorization: '/api/v2/authorize',
    token: '/api/v2/token',
    userinfo: '/api/v2/userinfo',
    jwks: '/api/v2/jwks',
    end_session: '/api/v2/session/end',
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const login = loginOf[sub];
    if (!login) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claimsOf(login) }) };
  },
});
provider.proxy = false;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (req.method === 'POST') {
    const form = await readForm(req);
    if (form.get('cancel')) {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'annulé' });
    }
    if (prompt.name === 'login') {
      const login = form.get('login');
      if (!identities[login]) return provider.interactionFinished(req, res, { error: 'access_denied' });
      return provider.interactionFinished(req, res, {
        login: { accountId: subOf(login), acr: 'eidas1', amr: ['pwd'] },
      });
    }
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true });
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  if (prompt.name === 'login') {
    const buttons = Object.entries(identities).map(([login, identity]) => `<li><button name="login"
      value="${escape(login)}">${escape(identity.label || login)}</button></li>`).join('');
    return res.end(page('Choisissez une identité', `<form method="post" action="/interaction/${uid}">
<ul>${buttons}</ul><button name="cancel" value="1">Annuler et revenir sur le site</button></form>`));
  }
  return res.end(page('Autoriser la transmission de vos données', `<p>Le service demande : ${escape(params.scope)}</p>
<form method="post" action="/interaction/${uid}"><button name="consent" value="1">Continuer</button>
<button name="cancel" value="1">Annuler</button></form>`));
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 400;
      res.end(page('Erreur', `<p>${escape(error.message)}</p>`));
    });
    return;
  }
  callback(req, res);
});
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${config.issuer}\n`);
});
