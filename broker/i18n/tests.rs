use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::*;

/// A catalog's messages by id, each with the variables it uses, read line by line: a message
/// starts at `id =` in the first column and goes on over indented lines.
fn messages(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let starts = line
            .split_once(" =")
            .filter(|(id, _)| {
                !id.is_empty()
                    && id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
            .map(|(id, _)| id.to_owned());
        if let Some(id) = starts {
            assert!(
                out.insert(id.clone(), BTreeSet::new()).is_none(),
                "{id} twice"
            );
            current = Some(id);
        } else if !line.starts_with(' ') && !line.is_empty() {
            // A blank line inside a multi-line message (a mail's paragraphs) continues it.
            current = None;
        }
        if let Some(id) = &current {
            let vars = out.get_mut(id).unwrap();
            for (i, _) in line.match_indices('$') {
                let name: String = line[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                vars.insert(name);
            }
        }
    }
    out
}

#[test]
fn every_shipped_catalog_parses() {
    for (locale, files) in SHIPPED {
        for (file, text) in *files {
            let mut problems = Vec::new();
            parse(file, text, &mut problems);
            assert!(problems.is_empty(), "{locale}: {problems:?}");
        }
    }
}

#[test]
fn every_catalog_has_exactly_the_messages_and_arguments_of_english() {
    let (_, english) = SHIPPED[0];
    for (locale, files) in &SHIPPED[1..] {
        for ((file, text), (en_file, en_text)) in files.iter().zip(english.iter()) {
            assert_eq!(file.split('/').nth(1), en_file.split('/').nth(1));
            let theirs = messages(text);
            let ours = messages(en_text);
            let missing: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
            let extra: Vec<_> = theirs.keys().filter(|k| !ours.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{file} lacks {missing:?}");
            assert!(
                extra.is_empty(),
                "{file} has {extra:?}, which English has not"
            );
            for (id, vars) in &ours {
                assert_eq!(
                    &theirs[id], vars,
                    "{locale}: {id} must use the arguments English uses"
                );
            }
            // The parser agrees with the line reading above.
            assert_eq!(
                message_ids(text).into_iter().collect::<BTreeSet<_>>(),
                theirs.keys().cloned().collect::<BTreeSet<_>>(),
                "{file}"
            );
        }
    }
}

#[test]
fn no_message_id_is_in_two_files() {
    let (_, english) = SHIPPED[0];
    let mut seen = BTreeSet::new();
    for (file, text) in english.iter() {
        for id in message_ids(text) {
            assert!(seen.insert(id.clone()), "{id} again in {file}");
        }
    }
}

#[test]
fn every_language_formats_every_message_without_errors() {
    let catalogs = Arc::new(Catalogs::shipped());
    // Each message's arguments, as English uses them.
    let (_, english) = SHIPPED[0];
    let mut arguments = BTreeMap::new();
    for (_, text) in english.iter() {
        arguments.extend(messages(text));
    }
    for tag in catalogs.locales().map(str::to_owned).collect::<Vec<_>>() {
        let lang = catalogs.exactly(&tag).unwrap();
        let catalog = &catalogs.catalogs[lang.index];
        for id in catalogs.ids() {
            let message = catalog.bundle.get_message(id);
            let pattern = message.and_then(|m| m.value());
            assert!(pattern.is_some(), "{tag}: {id} has no text");
            let mut args = FluentArgs::new();
            for name in &arguments[id] {
                match name.as_str() {
                    "month" => args.set(name.clone(), FluentValue::from(12)),
                    _ => args.set(name.clone(), FluentValue::from("x")),
                }
            }
            let mut errors = Vec::new();
            let text = catalog
                .bundle
                .format_pattern(pattern.unwrap(), Some(&args), &mut errors);
            assert!(errors.is_empty(), "{tag}: {id}: {errors:?}");
            assert!(!text.trim().is_empty(), "{tag}: {id} is empty");
        }
    }
}

#[test]
fn ui_locales_beat_accept_language_which_beats_the_default() {
    let c = Arc::new(Catalogs::shipped());
    assert_eq!(c.negotiate(None, None).tag(), "en");
    assert_eq!(
        c.negotiate(None, Some("de-DE,de;q=0.9,en;q=0.8")).tag(),
        "de"
    );
    assert_eq!(c.negotiate(Some("fr"), Some("de-DE,de;q=0.9")).tag(), "fr");
    // The first of ui_locales that has a catalog.
    assert_eq!(c.negotiate(Some("ja fr-CA"), Some("de")).tag(), "fr");
    // Weights, not order.
    assert_eq!(c.negotiate(None, Some("de;q=0.5, cs;q=0.9")).tag(), "cs");
    // q=0 is "not this one"; `*` adds nothing.
    assert_eq!(c.negotiate(None, Some("nl;q=0, *")).tag(), "en");
    // Nothing usable: the default.
    assert_eq!(c.negotiate(Some("!!"), Some("x-klingon")).tag(), "en");
    assert_eq!(c.negotiate(None, Some(&"a,".repeat(5000))).tag(), "en");
}

#[test]
fn dates_read_as_each_language_writes_them() {
    let c = Arc::new(Catalogs::shipped());
    let t = 1_796_468_520; // 2026-12-05 11:02 UTC
    assert_eq!(
        c.exactly("en").unwrap().date_time(t),
        "December 5, 2026, 11:02 UTC"
    );
    assert_eq!(
        c.exactly("de").unwrap().date_time(t),
        "5. Dezember 2026, 11:02 UTC"
    );
    assert_eq!(c.exactly("en").unwrap().date_time(u64::MAX), "unknown");
}

#[test]
fn a_missing_message_falls_back_to_english_and_an_unknown_id_reads_as_itself() {
    let c = Arc::new(Catalogs::shipped());
    let de = c.exactly("de").unwrap();
    assert_eq!(de.t("no-such-message"), "no-such-message");
    assert_eq!(
        Msg::new("login-error-bad-credentials").english(),
        "The email address or password is incorrect."
    );
}

#[test]
fn an_operators_folder_overrides_adds_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("de.ftl"), "login-next = Weiter geht's\n").unwrap();
    std::fs::write(dir.path().join("it.ftl"), "login-next = Avanti\n").unwrap();
    let c = Arc::new(Catalogs::load("it", Some(dir.path())).unwrap());
    assert_eq!(
        c.negotiate(None, Some("de")).t("login-next"),
        "Weiter geht's"
    );
    assert_eq!(c.negotiate(None, Some("de")).t("login-title"), "Anmelden");
    // A new language; what it lacks comes from English.
    let it = c.negotiate(None, Some("it-IT"));
    assert_eq!((it.tag(), it.t("login-next")), ("it", "Avanti".to_owned()));
    assert_eq!(it.t("login-title"), "Sign in");
    // The default language is the operator's.
    assert_eq!(c.negotiate(None, None).tag(), "it");

    std::fs::write(dir.path().join("fr.ftl"), "\nlogin-nxet = Suivant\n").unwrap();
    std::fs::write(dir.path().join("nl.ftl"), "login-next = { $\n").unwrap();
    let problems = Catalogs::load("en", Some(dir.path())).unwrap_err();
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        shown.iter().any(|p| p.ends_with("fr.ftl:2:1: \"login-nxet\" is not a message of any page; check its spelling against the English catalog")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|p| p.contains("nl.ftl:1:") && p.contains("not valid Fluent")),
        "{shown:?}"
    );
    let unknown = Catalogs::load("pt", None).unwrap_err();
    assert!(
        unknown[0]
            .reason
            .contains("no catalog for the default language \"pt\"")
    );
}
