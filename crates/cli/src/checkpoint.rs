//! The checkpoint file of `levels --checkpoint`: the SDK's [`Checkpoint`] plus what the
//! CLI needs to resume exactly (the query it belongs to, how much of the output file is
//! committed), written atomically.

use std::{io, path::Path};

use serde::{Deserialize, Serialize};
use shipstream_inventory::Checkpoint;

use crate::exit::Failure;

/// Format version of [`CheckpointFile`].
pub const VERSION: u32 = 1;

/// The query options an export was started with. Resuming with other options is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryArgs {
    /// `--filter`, each rendered in canonical form.
    pub filters: Vec<String>,
    /// `--sort`.
    pub sort: Option<String>,
    /// `--fields`.
    pub fields: Vec<String>,
    /// `--product-fields`.
    pub product_fields: Vec<String>,
    /// `--page-size`.
    pub page_size: Option<u32>,
    /// `--max-items`.
    pub max_items: Option<u64>,
    /// `--count`.
    pub count: bool,
    /// `--updated-since`, RFC 3339.
    pub updated_since: Option<String>,
    /// `--format`.
    pub format: String,
    /// `--parallel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u32>,
}

impl QueryArgs {
    /// The options that differ from `other`, as flag names.
    pub fn differences(&self, other: &QueryArgs) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.filters != other.filters {
            out.push("--filter");
        }
        if self.sort != other.sort {
            out.push("--sort");
        }
        if self.fields != other.fields {
            out.push("--fields");
        }
        if self.product_fields != other.product_fields {
            out.push("--product-fields");
        }
        if self.page_size != other.page_size {
            out.push("--page-size");
        }
        if self.max_items != other.max_items {
            out.push("--max-items");
        }
        if self.count != other.count {
            out.push("--count");
        }
        if self.updated_since != other.updated_since {
            out.push("--updated-since");
        }
        if self.format != other.format {
            out.push("--format");
        }
        out
    }
}

/// What `--checkpoint FILE` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointFile {
    /// Always `shipstream-inventory levels`, to recognise the file.
    pub tool: String,
    /// [`VERSION`].
    pub version: u32,
    /// The options of the export.
    pub query: QueryArgs,
    /// True once the export is complete.
    pub done: bool,
    /// Levels written to the output so far.
    pub items_written: u64,
    /// Records that did not decode so far (they make the final exit code 6).
    pub record_errors: u64,
    /// Bytes of the output file that hold complete pages; anything after them is cut off
    /// on resume.
    pub output_len: u64,
    /// Where the SDK continues.
    pub checkpoint: Checkpoint,
}

const TOOL: &str = "shipstream-inventory levels";

impl CheckpointFile {
    /// A checkpoint at the start of an export.
    pub fn new(query: QueryArgs, checkpoint: Checkpoint, output_len: u64) -> Self {
        Self {
            tool: TOOL.into(),
            version: VERSION,
            query,
            done: false,
            items_written: 0,
            record_errors: 0,
            output_len,
            checkpoint,
        }
    }

    /// Reads `path`; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, Failure> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Failure::usage(format!(
                    "cannot read the checkpoint {}: {e}",
                    path.display()
                )));
            }
        };
        let file: CheckpointFile = serde_json::from_str(&text).map_err(|e| {
            Failure::usage(format!(
                "{} is not a checkpoint of this tool ({e}); pass another --checkpoint file or \
                 delete it to start over",
                path.display()
            ))
        })?;
        if file.tool != TOOL || file.version != VERSION {
            return Err(Failure::usage(format!(
                "{} is a checkpoint of another tool or version (`{}` v{}); delete it to start \
                 over",
                path.display(),
                file.tool,
                file.version
            )));
        }
        Ok(Some(file))
    }

    /// Writes `path` atomically ([`crate::atomic_file::write`]).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        crate::atomic_file::write(path, ".shipstream-checkpoint", &json)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn query() -> QueryArgs {
        QueryArgs {
            filters: vec!["qty_available{lt:10}".into()],
            sort: Some("product_id".into()),
            fields: vec![],
            product_fields: vec!["sku".into()],
            page_size: Some(10),
            max_items: None,
            count: false,
            updated_since: None,
            format: "ndjson".into(),
            parallel: None,
        }
    }

    #[test]
    fn saves_atomically_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt.json");
        assert!(CheckpointFile::load(&path).unwrap().is_none());
        let cp = shipstream_inventory::Client::builder()
            .base_url("http://127.0.0.1:1")
            .token("t")
            .build()
            .unwrap()
            .total_levels()
            .checkpoint()
            .unwrap();
        let file = CheckpointFile::new(query(), cp, 12);
        file.save(&path).unwrap();
        file.save(&path).unwrap();
        assert_eq!(CheckpointFile::load(&path).unwrap(), Some(file));
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "{}").unwrap();
        assert!(CheckpointFile::load(&path).is_err());
    }

    #[test]
    fn differences_name_the_flags() {
        let a = query();
        let mut b = query();
        assert!(a.differences(&b).is_empty());
        b.sort = None;
        b.format = "csv".into();
        assert_eq!(a.differences(&b), ["--sort", "--format"]);
    }
}
