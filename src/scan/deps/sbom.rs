//! SBOM input: CycloneDX JSON (`bom.json`, `*.cdx.json`) and SPDX 2.x JSON
//! (`*.spdx.json`), so the check can judge the artifact that is deployed
//! rather than the source tree. Components are identified by their package
//! URL (parsed by `packageurl`); what has none, or has a type no ecosystem
//! here covers, is counted as not verified, never as safe.

use packageurl::PackageUrl;
use serde_json::Value;

use super::versions::Ecosystem;
use super::{parse_json, Package};

/// File names read as SBOMs.
pub fn is_sbom_name(name: &str) -> bool {
    name == "bom.json" || name.ends_with(".cdx.json") || name.ends_with(".spdx.json")
}

/// The packages of an SBOM by ecosystem, and what could not be judged.
#[derive(Debug, Default)]
pub struct Sbom {
    pub groups: Vec<(Ecosystem, Vec<Package>)>,
    /// Components whose package URL names a type no ecosystem here covers
    /// (`pkg:deb/debian/openssl@3.0.11`), or that have no package URL or no
    /// version (by name).
    pub unjudged: Vec<String>,
}

impl Sbom {
    fn add(&mut self, eco: Ecosystem, package: Package) {
        match self.groups.iter_mut().find(|(e, _)| *e == eco) {
            Some((_, list)) => list.push(package),
            None => self.groups.push((eco, vec![package])),
        }
    }
}

/// Reads a CycloneDX or SPDX JSON document (told apart by its content).
pub fn parse_sbom(text: &str) -> Result<Sbom, String> {
    let doc = parse_json(text)?;
    let mut sbom = Sbom::default();
    let mut entries: Vec<(String, Option<String>)> = Vec::new();
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        // Components nest (`components[].components[]`); `metadata.component`
        // is the artifact itself, not one of its dependencies.
        let mut stack: Vec<&Value> = doc
            .get("components")
            .and_then(Value::as_array)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        while let Some(c) = stack.pop() {
            // `excluded`: not part of the runtime (a build tool, a test
            // dependency), so not part of what is deployed.
            if c.get("scope").and_then(Value::as_str) == Some("excluded") {
                continue;
            }
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let version = c.get("version").and_then(Value::as_str).unwrap_or("");
            entries.push((
                format!("{name}@{version}"),
                c.get("purl").and_then(Value::as_str).map(str::to_owned),
            ));
            if let Some(nested) = c.get("components").and_then(Value::as_array) {
                stack.extend(nested);
            }
        }
    } else if let Some(version) = doc.get("spdxVersion").and_then(Value::as_str) {
        if !version.starts_with("SPDX-2.") {
            return Err(format!("{version} is not supported (SPDX 2.x JSON is)"));
        }
        // The packages the document describes are the artifact itself.
        let described: Vec<&str> = doc
            .get("documentDescribes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for p in doc
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.get("SPDXID")
                .and_then(Value::as_str)
                .is_some_and(|id| described.contains(&id))
            {
                continue;
            }
            let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
            let version = p.get("versionInfo").and_then(Value::as_str).unwrap_or("");
            let purl = p
                .get("externalRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
                .and_then(|r| r.get("referenceLocator").and_then(Value::as_str));
            entries.push((format!("{name}@{version}"), purl.map(str::to_owned)));
        }
    } else {
        return Err(
            "neither a CycloneDX (`bomFormat`) nor an SPDX (`spdxVersion`) JSON document".into(),
        );
    }
    for (shown, purl) in entries {
        let Some(purl) = purl else {
            sbom.unjudged.push(format!("{shown} (no package URL)"));
            continue;
        };
        match from_purl(&purl)? {
            Some((eco, package)) => sbom.add(eco, package),
            None => sbom.unjudged.push(purl),
        }
    }
    Ok(sbom)
}

/// The ecosystem and package a package URL names; `None` for a type no
/// ecosystem here covers or a URL without a version.
fn from_purl(purl: &str) -> Result<Option<(Ecosystem, Package)>, String> {
    Ok(purl_parts(purl)?.and_then(|(eco, name, version)| {
        Some((
            eco,
            Package {
                name,
                version: version?,
                alias: None,
            },
        ))
    }))
}

/// The ecosystem, the package name as OSV writes it, and the version (when
/// the URL has one) of a package URL; `None` for a type no ecosystem here
/// covers.
pub fn purl_parts(purl: &str) -> Result<Option<(Ecosystem, String, Option<String>)>, String> {
    let url: PackageUrl<'_> = purl
        .parse()
        .map_err(|e| format!("invalid package URL {purl:?}: {e}"))?;
    let (eco, separator) = match url.ty() {
        "cargo" => (Ecosystem::CratesIo, "/"),
        "npm" => (Ecosystem::Npm, "/"),
        "pypi" => (Ecosystem::PyPI, "/"),
        "golang" => (Ecosystem::Go, "/"),
        "gem" => (Ecosystem::RubyGems, "/"),
        "hex" => (Ecosystem::Hex, "/"),
        "composer" => (Ecosystem::Packagist, "/"),
        "maven" => (Ecosystem::Maven, ":"),
        "nuget" => (Ecosystem::NuGet, "/"),
        _ => return Ok(None),
    };
    let name = match url.namespace() {
        Some(ns) => format!("{ns}{separator}{}", url.name()),
        None => url.name().to_owned(),
    };
    Ok(Some((eco, name, url.version().map(str::to_owned))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_urls_map_to_osv_names() {
        let one = |p: &str| {
            from_purl(p)
                .unwrap()
                .map(|(e, p)| format!("{}:{}@{}", e.osv_name(), p.name, p.version))
        };
        assert_eq!(
            one("pkg:npm/%40babel/core@7.24.0").as_deref(),
            Some("npm:@babel/core@7.24.0")
        );
        assert_eq!(
            one("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar").as_deref(),
            Some("Maven:org.apache.logging.log4j:log4j-core@2.14.1")
        );
        assert_eq!(
            one("pkg:golang/golang.org/x/text@v0.3.7").as_deref(),
            Some("Go:golang.org/x/text@v0.3.7")
        );
        assert_eq!(one("pkg:deb/debian/openssl@3.0.11"), None);
        assert_eq!(one("pkg:npm/lodash"), None);
        assert!(from_purl("not a purl").is_err());
    }

    #[test]
    fn unknown_documents_and_unjudged_components_are_reported() {
        assert!(parse_sbom("{\"packages\": []}").is_err());
        assert!(parse_sbom("{\"spdxVersion\": \"SPDX-3.0\"}").is_err());
        let cdx = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"name": "openssl", "version": "3.0.11", "purl": "pkg:deb/debian/openssl@3.0.11"},
            {"name": "vendored", "version": "1.0"},
            {"name": "jest", "version": "29.0.0", "scope": "excluded", "purl": "pkg:npm/jest@29.0.0"},
            {"name": "app", "version": "1", "components": [{"name": "lodash", "version": "4.17.15", "purl": "pkg:npm/lodash@4.17.15"}]}]}"#;
        let sbom = parse_sbom(cdx).unwrap();
        assert_eq!(sbom.groups.len(), 1);
        assert_eq!(
            sbom.groups[0].1,
            [Package {
                name: "lodash".into(),
                version: "4.17.15".into(),
                alias: None,
            }],
            "jest is excluded from the runtime"
        );
        assert_eq!(
            sbom.unjudged,
            [
                "app@1 (no package URL)",
                "vendored@1.0 (no package URL)",
                "pkg:deb/debian/openssl@3.0.11"
            ]
        );
    }
}
