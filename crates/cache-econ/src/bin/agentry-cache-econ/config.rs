//! The configuration file: defaults for the time zone, the start of the week, price files and project
//! aliases, read from `--config FILE` or else `$XDG_CONFIG_HOME/agentry/cache-econ.toml` (by default
//! `~/.config/agentry/cache-econ.toml`) when it exists. Flags on the command line win over it.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use serde::Deserialize;

/// What the file may set; every key is optional and any other key is an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// IANA zone for days (`--timezone`).
    pub(crate) timezone: Option<String>,
    /// First day of the week (`--start-of-week`).
    pub(crate) start_of_week: Option<String>,
    /// A price override file in this crate's format (`--prices`), relative to the config file's folder.
    pub(crate) prices: Option<PathBuf>,
    /// LiteLLM's price file (`--litellm`), relative to the config file's folder.
    pub(crate) litellm: Option<PathBuf>,
    /// Names shown instead of project folder names, which `--project` also accepts.
    #[serde(default)]
    pub(crate) project_aliases: BTreeMap<String, String>,
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("agentry/cache-econ.toml")).filter(|p| p.is_file())
}

impl Config {
    /// The file named, or the default one if it exists, or the empty configuration.
    pub(crate) fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path.map(Path::to_owned).or_else(default_path) else { return Ok(Self::default()) };
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("reading config {}", path.display()))?;
        Self::parse(&text, &path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut config: Self = toml::from_str(text)
            .with_context(|| format!("config {}: not a valid cache-econ config", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for file in [&mut config.prices, &mut config.litellm].into_iter().flatten() {
            if file.is_relative() {
                *file = dir.join(&*file);
            }
        }
        Ok(config)
    }

    /// The alias of a project folder, or the folder's name.
    pub(crate) fn project_name<'a>(&'a self, folder: &'a str) -> &'a str {
        self.project_aliases.get(folder).map_or(folder, String::as_str)
    }

    /// The folder an alias stands for, or the name as given.
    pub(crate) fn project_folder(&self, name: &str) -> String {
        self.project_aliases
            .iter()
            .find(|(_, alias)| *alias == name)
            .map_or(name, |(f, _)| f.as_str())
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("conf/cache-econ.toml"))
    }

    #[test]
    fn keys_parse_and_paths_are_relative_to_the_file() {
        let c = check("timezone = \"Asia/Tokyo\"\nprices = \"mine.toml\"\n[project_aliases]\n\"-home-ada-src-shop\" = \"shop\"\n")
            .expect("parses");
        assert_eq!(c.timezone.as_deref(), Some("Asia/Tokyo"));
        assert_eq!(c.prices, Some(PathBuf::from("conf/mine.toml")));
        assert_eq!(c.project_name("-home-ada-src-shop"), "shop");
        assert_eq!(c.project_folder("shop"), "-home-ada-src-shop");
        assert_eq!(c.project_folder("-home-ada-src-blog"), "-home-ada-src-blog");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_file_and_line() {
        for text in ["timezone = \"UTC\"\ntimezon = \"UTC\"\n", "timezone = 5\n"] {
            let e = format!("{:#}", check(text).expect_err("an error"));
            assert!(e.contains("conf/cache-econ.toml") && e.contains("line"), "{e}");
        }
    }
}
