//! Objects of a Kubernetes cluster a runbook asks runbox to read (a key of
//! a ConfigMap or a Secret, as a step's script), and the grants that let it:
//! `--allow-kubernetes KIND/NAMESPACE/NAME/KEY`, any part of which may be
//! `*`. Reading one is done with the user's own credentials, so it is asked
//! like a path outside the runbook's folder.

use std::fmt;

use super::{is_data_key, is_namespace_name, is_object_name};

/// The kinds of object a script is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    ConfigMap,
    Secret,
}

impl ObjectKind {
    /// As a grant writes it: `configmap`, `secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::ConfigMap => "configmap",
            ObjectKind::Secret => "secret",
        }
    }

    fn parse(text: &str) -> Option<ObjectKind> {
        match text {
            "configmap" | "configmaps" | "cm" => Some(ObjectKind::ConfigMap),
            "secret" | "secrets" => Some(ObjectKind::Secret),
            _ => None,
        }
    }
}

/// One key of one object, its namespace resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey {
    pub kind: ObjectKind,
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl ObjectKey {
    /// Parses `KIND/NAMESPACE/NAME/KEY`, no part `*` but the key, which
    /// stands for every key of the object (a Secret whose keys become a
    /// Job's variables).
    pub fn parse(text: &str) -> Option<ObjectKey> {
        let grant = ObjectGrant::parse(text).ok()?;
        let key = grant.key.unwrap_or_else(|| "*".into());
        Some(ObjectKey { kind: grant.kind, namespace: grant.namespace?, name: grant.name?, key })
    }
}

impl fmt::Display for ObjectKey {
    /// `KIND/NAMESPACE/NAME/KEY`, what `--allow-kubernetes` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}/{}", self.kind.as_str(), self.namespace, self.name, self.key)
    }
}

/// A grant of `--allow-kubernetes`: each part a name, or `*` for any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectGrant {
    kind: ObjectKind,
    namespace: Option<String>,
    name: Option<String>,
    key: Option<String>,
}

impl ObjectGrant {
    /// Parses `KIND/NAMESPACE/NAME/KEY` (`configmap/ops/scripts/backup.sh`,
    /// `secret/ops/*/*`); the error says what is wrong with which part.
    pub fn parse(text: &str) -> Result<ObjectGrant, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let [kind, namespace, name, key] = parts[..] else {
            return Err(format!(
                "`{text}` is not KIND/NAMESPACE/NAME/KEY (e.g. configmap/ops/scripts/backup.sh; `*` for any part but the kind)"
            ));
        };
        let kind = ObjectKind::parse(kind)
            .ok_or_else(|| format!("`{text}`: the kind `{kind}` is not `configmap` or `secret`"))?;
        let part = |value: &str, what: &str, valid: fn(&str) -> bool| match value {
            "*" => Ok(None),
            _ if valid(value) => Ok(Some(value.to_string())),
            _ => Err(format!("`{text}`: `{value}` is not {what} (or `*`)")),
        };
        Ok(ObjectGrant {
            kind,
            namespace: part(namespace, "a namespace's name", is_namespace_name)?,
            name: part(name, "an object's name", is_object_name)?,
            key: part(key, "a data key", is_data_key)?,
        })
    }

    /// The grant of `object` alone.
    pub fn exactly(object: &ObjectKey) -> ObjectGrant {
        ObjectGrant {
            kind: object.kind,
            namespace: Some(object.namespace.clone()),
            name: Some(object.name.clone()),
            key: Some(object.key.clone()),
        }
    }

    pub fn covers(&self, object: &ObjectKey) -> bool {
        let part = |granted: &Option<String>, wanted: &str| granted.as_deref().is_none_or(|g| g == wanted);
        self.kind == object.kind
            && part(&self.namespace, &object.namespace)
            && part(&self.name, &object.name)
            && part(&self.key, &object.key)
    }
}

/// The Kubernetes executor as the operator configures it: the images an
/// `image_ref` step may name (`--image NAME=IMAGE`), and whether any other
/// image reference is run as written (`--allow-any-image`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Executor {
    images: Vec<(String, String)>,
    any_image: bool,
}

impl Executor {
    pub fn new(images: Vec<(String, String)>, any_image: bool) -> Executor {
        Executor { images, any_image }
    }

    /// `NAME=IMAGE`, as `--image` takes it.
    pub fn parse_image(text: &str) -> Result<(String, String), String> {
        let (name, image) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not NAME=IMAGE (e.g. postgres=docker.io/library/postgres:16)"))?;
        if !super::is_image_ref(name) || !super::is_image_ref(image) {
            return Err(format!(
                "`{text}`: NAME and IMAGE must be image names (letters, digits, `.`, `_`, `-`, `/`, `:`, `@`)"
            ));
        }
        Ok((name.to_string(), image.to_string()))
    }

    /// The image a step naming `name` runs in.
    pub fn image(&self, name: &str) -> Result<String, String> {
        if let Some((_, image)) = self.images.iter().find(|(n, _)| n == name) {
            return Ok(image.clone());
        }
        if self.any_image {
            return Ok(name.to_string());
        }
        let known: Vec<&str> = self.images.iter().map(|(n, _)| n.as_str()).collect();
        let maps = if known.is_empty() { "maps no image".to_string() } else { format!("maps {}", known.join(", ")) };
        Err(format!(
            "image `{name}` is not one this server runs: its operator {maps} (--image NAME=IMAGE), and any other image only with --allow-any-image"
        ))
    }
}

/// What a step run as a Job ran as, for its record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct JobRecord {
    pub name: String,
    pub namespace: String,
    /// The image the pod was given.
    pub image: String,
    /// The image the container ran, by digest, as the kubelet reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: ObjectKind, namespace: &str, name: &str, key: &str) -> ObjectKey {
        ObjectKey { kind, namespace: namespace.into(), name: name.into(), key: key.into() }
    }

    #[test]
    fn a_grant_covers_what_it_names_and_nothing_beside_it() {
        let wanted = key(ObjectKind::Secret, "ops", "scripts", "backup.sh");
        let covers = |grant: &str| ObjectGrant::parse(grant).unwrap().covers(&wanted);
        assert!(covers("secret/ops/scripts/backup.sh"));
        assert!(covers("secrets/ops/scripts/*"));
        assert!(covers("secret/*/*/*"));
        assert!(!covers("configmap/ops/scripts/backup.sh"));
        assert!(!covers("secret/prod/scripts/backup.sh"));
        assert!(!covers("secret/ops/scripts/password"));
        assert!(!covers("secret/ops/script/backup.sh"));
        assert_eq!(wanted.to_string(), "secret/ops/scripts/backup.sh");
        assert_eq!(ObjectKey::parse("secret/ops/scripts/backup.sh"), Some(wanted.clone()));
        assert_eq!(ObjectKey::parse("secret/ops/*/backup.sh"), None);
        // Every key of a Secret is its own ask: a grant of one key does not cover it.
        let whole = ObjectKey::parse("secret/ops/scripts/*").unwrap();
        assert_eq!(whole.to_string(), "secret/ops/scripts/*");
        assert!(ObjectGrant::parse("secret/ops/scripts/*").unwrap().covers(&whole));
        assert!(!ObjectGrant::parse("secret/ops/scripts/backup.sh").unwrap().covers(&whole));
        assert!(ObjectGrant::exactly(&wanted).covers(&wanted));
    }

    #[test]
    fn an_image_is_the_operators_unless_any_is_allowed() {
        let images = vec![("postgres".to_string(), "docker.io/library/postgres:16@sha256:ab".to_string())];
        let executor = Executor::new(images.clone(), false);
        assert_eq!(executor.image("postgres").unwrap(), "docker.io/library/postgres:16@sha256:ab");
        assert_eq!(
            executor.image("alpine").unwrap_err(),
            "image `alpine` is not one this server runs: its operator maps postgres (--image NAME=IMAGE), and any other image only with --allow-any-image"
        );
        assert_eq!(Executor::new(images, true).image("alpine").unwrap(), "alpine");
        assert_eq!(Executor::parse_image("aws=amazon/aws-cli:2").unwrap(), ("aws".into(), "amazon/aws-cli:2".into()));
        assert!(Executor::parse_image("aws").unwrap_err().contains("NAME=IMAGE"));
        assert!(Executor::parse_image("aws=a b").unwrap_err().contains("must be image names"));
    }

    #[test]
    fn a_grant_that_is_not_one_says_which_part_is_wrong() {
        let error = |grant: &str| ObjectGrant::parse(grant).unwrap_err();
        assert_eq!(
            error("secret/ops/scripts"),
            "`secret/ops/scripts` is not KIND/NAMESPACE/NAME/KEY (e.g. configmap/ops/scripts/backup.sh; `*` for any part but the kind)"
        );
        assert_eq!(error("*/ops/a/b"), "`*/ops/a/b`: the kind `*` is not `configmap` or `secret`");
        assert_eq!(error("secret/Ops/a/b"), "`secret/Ops/a/b`: `Ops` is not a namespace's name (or `*`)");
        assert_eq!(error("secret/ops/../b"), "`secret/ops/../b`: `..` is not an object's name (or `*`)");
        assert_eq!(error("secret/ops/a/"), "`secret/ops/a/`: `` is not a data key (or `*`)");
        assert_eq!(error("secret/ops/a/b/c").split(' ').next(), Some("`secret/ops/a/b/c`"));
    }
}
