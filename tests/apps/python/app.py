"""A Python web application (Flask) that signs its users in at idbroker with Authlib: the
authorization code flow with PKCE, a confidential client. The part between the ANCHOR lines is
the snippet of docs/src/connecting/libraries.md; tests/it/apps.rs runs this file against the
real idbroker binary and checks the page still shows exactly that part.

Environment: IDBROKER_ISSUER, CLIENT_ID, CLIENT_SECRET, APP_PORT, FLASK_SECRET_KEY. With
TEST_USER and TEST_PASSWORD set, the script also checks the broker's discovery document with
Authlib's metadata validation, plays the user's browser once (below the snippet), prints what
the application saw, and exits. Against an https issuer with a private CA, REQUESTS_CA_BUNDLE
names the CA's certificate (requests reads it from the environment).
"""

# ANCHOR: snippet
import os

from authlib.integrations.flask_client import OAuth
from flask import Flask, session, url_for

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]  # signs the session cookie
issuer = os.environ["IDBROKER_ISSUER"]  # e.g. https://id.example.com

oauth = OAuth(app)
oauth.register(
    "idbroker",
    client_id=os.environ["CLIENT_ID"],
    client_secret=os.environ["CLIENT_SECRET"],
    # Discovery: every endpoint and the signing keys come from the issuer.
    server_metadata_url=f"{issuer}/.well-known/openid-configuration",
    client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
)


@app.route("/login")
def login():
    # Authlib keeps the state, nonce and PKCE verifier in the Flask session.
    return oauth.idbroker.authorize_redirect(url_for("callback", _external=True))


@app.route("/callback")
def callback():
    # Redeems the code (client_secret_basic) and verifies the ID token: signature against the
    # broker's /jwks, iss, aud, exp and nonce.
    token = oauth.idbroker.authorize_access_token()
    user = token["userinfo"]  # the ID token's claims
    session["user"] = {"sub": user["sub"], "email": user.get("email")}
    return f"signed in: sub={user['sub']} email={user.get('email')}\n"
# ANCHOR_END: snippet

import re  # noqa: E402 (the test's own imports, kept out of the snippet)
import sys  # noqa: E402
import threading  # noqa: E402
from urllib.parse import urljoin  # noqa: E402


def check_metadata():
    """Fetches the discovery document and runs Authlib's own checks of it (RFC 8414 §2 and
    OIDC Discovery §3: https endpoints, RS256 among the ID token algorithms, ...), as a strict
    relying party does before it trusts a provider. Raises ValueError on the first failure."""
    from authlib.oidc.discovery import OpenIDProviderMetadata

    metadata = dict(oauth.idbroker.load_server_metadata())
    metadata.pop("_loaded_at", None)
    OpenIDProviderMetadata(metadata).validate()


def test_browser(port):
    """Starts at the application's /login, signs in on the broker's login page (email, then
    password) with plain HTTP requests and cookies, and comes back to /callback."""
    import requests

    browser = requests.Session()

    def field(html, name):
        m = re.search(f'name="{name}" value="([^"]*)"', html)
        if not m:
            raise RuntimeError(f"no field {name} in:\n{html}")
        return m.group(1).replace("&#x2f;", "/").replace("&amp;", "&")

    app_base = f"http://127.0.0.1:{port}"
    page = browser.get(f"{app_base}/login", timeout=20)  # follows to the login page
    page.raise_for_status()
    tx, csrf = field(page.text, "tx"), field(page.text, "csrf")
    step = browser.post(
        urljoin(issuer, "/login/identifier"),
        data={"tx": tx, "csrf": csrf, "identifier": os.environ["TEST_USER"]},
        timeout=20,
    )
    step.raise_for_status()
    back = browser.post(
        urljoin(issuer, "/login/password"),
        data={"tx": tx, "csrf": csrf, "password": os.environ["TEST_PASSWORD"]},
        allow_redirects=False,
        timeout=20,
    )
    location = back.headers.get("location", "")
    if not location.startswith(f"{app_base}/callback"):
        raise RuntimeError(f"the broker did not send the browser back: {back.status_code} {back.text}")
    done = browser.get(location, timeout=20)
    sys.stdout.write(done.text)
    return done.status_code == 200


if __name__ == "__main__":
    from werkzeug.serving import make_server

    port = int(os.environ.get("APP_PORT", "5000"))
    server = make_server("127.0.0.1", port, app)
    if not os.environ.get("TEST_USER"):
        server.serve_forever()
    else:
        try:
            check_metadata()
        except ValueError as e:
            sys.stdout.write(f"discovery refused by Authlib: {e}\n")
            sys.exit(1)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            ok = test_browser(port)
        finally:
            server.shutdown()
        sys.exit(0 if ok else 1)
