//! `branding` and `i18n`: logos read from the assets folder and checked, colours checked
//! for contrast in light and dark mode, catalogs checked; every refusal located.

use std::path::Path;

use super::*;

/// The problems of a policy text that must be refused.
fn refused(text: &str) -> Vec<Problem> {
    match load_str_with_env(Path::new("test.yaml"), text, &|_| None) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A folder of logos for one test, and a policy text naming it.
struct Assets {
    dir: tempfile::TempDir,
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

const CLEAN_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#2557d6"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)"/></svg>"##;

impl Assets {
    fn new() -> Assets {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broker.svg"), CLEAN_SVG).unwrap();
        std::fs::write(dir.path().join("contoso.png"), PNG).unwrap();
        std::fs::write(
            dir.path().join("evil.svg"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\">\n  <rect/>\n  <script>alert(1)</script>\n</svg>\n",
        )
        .unwrap();
        let mut big = PNG.to_vec();
        big.resize(300 * 1024, 0);
        std::fs::write(dir.path().join("huge.png"), big).unwrap();
        Assets { dir }
    }

    fn path(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn text(&self, body: &str) -> String {
        format!(
            "issuer: https://login.example.com\nbranding:\n  assets: {}\n{body}",
            self.path()
        )
    }

    fn load(&self, body: &str) -> Result<Policy, ConfigError> {
        load_str_with_env(Path::new("test.yaml"), &self.text(body), &|_| None)
    }

    /// The one problem of `body`, as `line:column: reason`.
    fn problem(&self, body: &str) -> String {
        let problems = refused(&self.text(body));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        format!("{}:{}: {}", p.line, p.column, p.reason)
    }
}

#[test]
fn logos_colours_and_links_build_the_brand() {
    let a = Assets::new();
    let p = a
        .load(
            r##"  product_name: Contoso Login
  logo: broker.svg
  favicon: contoso.png
  primary_color: "#0b5cad"
  links: {privacy: "https://example.com/privacy", help: "https://example.com/help"}
  forgot_password: https://example.com/reset
clients:
  - id: app
    name: Time Sheets
    redirect_uris: [https://app.example.com/cb]
    branding: {logo: contoso.png}
organizations:
  - id: contoso
    domains: [contoso.com]
    branding: {logo: contoso.png, primary_color: "#7a1f5c", primary_color_dark: "#f0b3dd"}
"##,
        )
        .unwrap();
    let b = &p.branding;
    assert_eq!(b.product_name, "Contoso Login");
    let logo = b.logo.as_ref().unwrap();
    assert_eq!(logo.content_type, "image/svg+xml");
    assert!(logo.url().starts_with("/branding/") && logo.url().ends_with(".svg"));
    // The same file twice is one asset.
    let png = b.favicon.as_ref().unwrap();
    assert!(std::sync::Arc::ptr_eq(
        png,
        p.client("app").unwrap().logo.as_ref().unwrap()
    ));
    let org = &p.org_by_id["contoso"].branding;
    assert!(std::sync::Arc::ptr_eq(png, org.logo.as_ref().unwrap()));
    // Two themes: the broker's (dark derived) and the organisation's.
    let theme = String::from_utf8(b.theme.as_ref().unwrap().bytes.to_vec()).unwrap();
    assert!(
        theme.starts_with(":root{--accent:#0b5cad;--on-accent:#ffffff}"),
        "{theme}"
    );
    let org_theme = String::from_utf8(org.theme.as_ref().unwrap().bytes.to_vec()).unwrap();
    assert!(
        org_theme.contains("--accent:#f0b3dd;--on-accent:#121316"),
        "{org_theme}"
    );
    // Served by name: the SVG, the PNG and the two themes.
    assert_eq!(b.assets.len(), 4);
    assert!(b.links.privacy.is_some() && b.links.terms.is_none());
    assert_eq!(
        b.forgot_password.as_ref().unwrap().as_str(),
        "https://example.com/reset"
    );
}

#[test]
fn a_low_contrast_colour_is_refused_with_its_ratio_in_light_and_dark_mode() {
    let a = Assets::new();
    assert_eq!(
        a.problem("  primary_color: \"#8ab0ff\"\n"),
        "4:18: branding.primary_color: #8ab0ff has a contrast of 2.16:1 with the button text #ffffff in light mode; at least 4.5:1 is needed (WCAG 2.1 AA); pick a darker colour"
    );
    let dark = a.problem("  primary_color_dark: \"#2557d6\"\n");
    assert!(
        dark.starts_with("4:23: branding.primary_color_dark: #2557d6 has a contrast of "),
        "{dark}"
    );
    assert!(
        dark.contains("in dark mode") && dark.contains("lighter"),
        "{dark}"
    );
    let org = a.problem(
        "organizations:\n  - id: contoso\n    domains: [contoso.com]\n    branding: {primary_color: \"#ffcc00\"}\n",
    );
    assert!(
        org.starts_with(
            "7:31: organizations[0].branding.primary_color: #ffcc00 has a contrast of 1."
        ),
        "{org}"
    );
    assert_eq!(
        a.problem("  primary_color: blue\n"),
        "4:18: branding.primary_color: \"blue\" is not a colour; write it as #rrggbb, e.g. #2557d6"
    );
}

#[test]
fn an_svg_with_script_is_refused_where_the_policy_names_it_and_where_the_script_is() {
    let a = Assets::new();
    let shown = a.problem("  logo: evil.svg\n");
    let file = a.dir.path().join("evil.svg").display().to_string();
    assert!(shown.starts_with("4:9: branding.logo: "), "{shown}");
    assert!(shown.contains(&format!("{file}:3:")), "{shown}");
    assert!(shown.contains("<script>"), "{shown}");
}

#[test]
fn a_logo_over_the_limit_or_of_another_kind_or_elsewhere_is_refused() {
    let a = Assets::new();
    let huge = a.problem("  logo: huge.png\n");
    assert!(huge.starts_with("4:9: branding.logo: "), "{huge}");
    assert!(
        huge.contains("307200 bytes") && huge.contains("262144"),
        "{huge}"
    );
    std::fs::write(a.dir.path().join("fake.png"), CLEAN_SVG).unwrap();
    let fake = a.problem("  logo: fake.png\n");
    assert!(fake.contains("SVG"), "{fake}");
    let outside = a.problem("  logo: ../etc/passwd\n");
    assert!(
        outside.contains("must be a file name in the assets folder"),
        "{outside}"
    );
    let missing = a.problem("  logo: nope.png\n");
    assert!(
        missing.starts_with("4:9: branding.logo: cannot read"),
        "{missing}"
    );
    // A logo without a folder.
    let text = "issuer: https://login.example.com\nbranding:\n  logo: broker.svg\n";
    let problems = refused(text);
    assert!(problems[0].reason.contains("set it"), "{problems:?}");
    // A client's colours are not a thing.
    let client = a.problem(
        "clients:\n  - id: app\n    redirect_uris: [https://a.example.com/cb]\n    branding: {primary_color: \"#0b5cad\"}\n",
    );
    assert!(client.contains("a client has a logo only"), "{client}");
}

#[test]
fn footer_links_must_be_https() {
    let a = Assets::new();
    assert_eq!(
        a.problem("  links: {privacy: \"javascript:alert(1)\"}\n"),
        "4:20: branding.links.privacy: \"javascript:alert(1)\" must be an https URL"
    );
}

#[test]
fn i18n_names_a_default_with_a_catalog_and_a_folder_of_valid_catalogs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("de.ftl"), "login-next = Weiter\n").unwrap();
    let text = format!(
        "issuer: https://login.example.com\ni18n:\n  default_locale: de\n  messages: {}\n",
        dir.path().display()
    );
    let p = load_str_with_env(Path::new("test.yaml"), &text, &|_| None).unwrap();
    assert_eq!(p.i18n.negotiate(None, None).tag(), "de");
    assert_eq!(p.i18n.negotiate(None, None).t("login-next"), "Weiter");

    std::fs::write(dir.path().join("fr.ftl"), "login-nxet = Suivant\n").unwrap();
    let problems = refused(&text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].line, problems[0].column), (4, 13));
    assert!(
        problems[0]
            .reason
            .contains("fr.ftl:1:1: \"login-nxet\" is not a message"),
        "{problems:?}"
    );
    let problems = refused("issuer: https://login.example.com\ni18n: {default_locale: pt}\n");
    assert!(
        problems[0]
            .reason
            .starts_with("i18n.default_locale: no catalog for the default language \"pt\""),
        "{problems:?}"
    );
}
