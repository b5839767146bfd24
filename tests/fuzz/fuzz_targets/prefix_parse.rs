//! Any string either fails to parse as a model prefix or file name, or
//! parses to a name that formats back to exactly that string (ARCHITECTURE.md,
//! Naming and versions).
#![no_main]
use libfuzzer_sys::fuzz_target;
use shoptrain_shared::naming::{Artifact, ModelName, VersionedName};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = VersionedName::parse(text) {
        assert_eq!(v.prefix(), text);
        for token in v.prefix().split('_') {
            assert!(!token.is_empty() && !token.contains(['/', '\\', '.']));
        }
    }
    if let Ok(name) = ModelName::parse(text) {
        assert_eq!(name.identifier(), text);
    }
    if let Some((v, kind)) = Artifact::parse_file_name(text) {
        assert_eq!(kind.file_name(&v.prefix()).rsplit('/').next(), Some(text));
    }
});
