//! The deployment-test checklist of one register holder: the steps of a test case, each with
//! the document it stored and the checkpoints the archivist confirms in the archivist view
//! (DESIGN §2, "the archivist checks in the archivist user interface ...").
//!
//! The harness replaces a holder's checklist (`PUT /inspect/checklist`); confirming a
//! checkpoint records who confirmed it and when. Replacing a checklist clears its
//! confirmations: they belonged to the old one. The JSON shape of these types is the
//! inspection API's contract, so they are serializable.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::writer::timestamp;
use super::{Store, StoreError, sql};

/// The most checkpoints one checklist may hold.
pub const MAX_CHECKPOINTS: usize = 1000;

/// A deployment-test checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    /// The test case, e.g. `kayttoonottokoe`.
    pub case: String,
    /// A title for people (Finnish).
    pub title: String,
    /// The title in Swedish, for Swedish pages; `None`: the Finnish one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_sv: Option<String>,
    /// The steps, in order.
    pub steps: Vec<ChecklistStep>,
}

/// One step of the test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistStep {
    /// The step's id, e.g. `own-1`.
    pub step: String,
    /// A title for people (Finnish).
    pub title: String,
    /// The title in Swedish, for Swedish pages; `None`: the Finnish one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_sv: Option<String>,
    /// The document the step stored, if any; must be in the holder's register.
    pub document_id: Option<String>,
    /// What the archivist checks.
    pub checkpoints: Vec<Checkpoint>,
}

/// One thing to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Unique within the checklist, e.g. `own-1/status`.
    pub id: String,
    /// What to look at, e.g. `Tila`.
    pub label: String,
    /// The description field it checks, when it is one the view knows (`register_holder`,
    /// `status`, `version`, `client`, `service_unit`, `document_group`, `organiser`,
    /// `hidden_from`): the view then shows the field's name and the expected value in words in
    /// the page's language instead of `label` and `expected` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The expected value, if there is one.
    #[serde(default)]
    pub expected: Option<String>,
    /// Who confirmed it and when; `null` until confirmed. Ignored in a `PUT`.
    #[serde(default)]
    pub confirmed: Option<Confirmation>,
}

/// A checkpoint's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// The archivist's name.
    pub by: String,
    /// When, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Why a checklist cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChecklistProblem {
    /// Documents named by steps are not in the register holder's register.
    #[error("documents not in the register of {holder}: {}", ids.join(", "))]
    UnknownDocuments {
        /// The register holder.
        holder: String,
        /// The document ids, in step order.
        ids: Vec<String>,
    },
    /// Two checkpoints share an id.
    #[error("checkpoint id {0:?} is used twice")]
    DuplicateCheckpoint(String),
    /// A step or checkpoint id is empty.
    #[error("step {0:?}: an empty step or checkpoint id")]
    EmptyId(String),
    /// Too many checkpoints.
    #[error("{0} checkpoints; at most {MAX_CHECKPOINTS} are allowed")]
    TooMany(usize),
}

impl Checklist {
    /// The checks that need no database: ids present and unique, a bounded size.
    pub fn check_shape(&self) -> Result<(), ChecklistProblem> {
        let count: usize = self.steps.iter().map(|s| s.checkpoints.len()).sum();
        if count > MAX_CHECKPOINTS {
            return Err(ChecklistProblem::TooMany(count));
        }
        let mut seen = std::collections::HashSet::new();
        for step in &self.steps {
            if step.step.trim().is_empty()
                || step.checkpoints.iter().any(|c| c.id.trim().is_empty())
            {
                return Err(ChecklistProblem::EmptyId(step.step.clone()));
            }
            for checkpoint in &step.checkpoints {
                if !seen.insert(checkpoint.id.as_str()) {
                    return Err(ChecklistProblem::DuplicateCheckpoint(checkpoint.id.clone()));
                }
            }
        }
        Ok(())
    }

    /// Every checkpoint with its step.
    pub fn checkpoints(&self) -> impl Iterator<Item = (&ChecklistStep, &Checkpoint)> {
        self.steps
            .iter()
            .flat_map(|s| s.checkpoints.iter().map(move |c| (s, c)))
    }

    /// How many checkpoints are confirmed, of how many.
    pub fn progress(&self) -> (usize, usize) {
        let all: Vec<_> = self.checkpoints().collect();
        let done = all.iter().filter(|(_, c)| c.confirmed.is_some()).count();
        (done, all.len())
    }
}

/// Replaces a holder's checklist (writer side, inside the writer's transaction).
pub(crate) fn put(
    conn: &Connection,
    holder: &str,
    checklist: &Checklist,
    at: OffsetDateTime,
) -> Result<Result<(), ChecklistProblem>, StoreError> {
    if let Err(problem) = checklist.check_shape() {
        return Ok(Err(problem));
    }
    let mut unknown = Vec::new();
    {
        let mut statement = conn
            .prepare_cached(
                "SELECT 1 FROM documents WHERE register_holder = ?1 AND document_id = ?2",
            )
            .map_err(sql("checking a checklist document"))?;
        for id in checklist
            .steps
            .iter()
            .filter_map(|s| s.document_id.as_ref())
        {
            let found = statement
                .query_row(params![holder, id], |_| Ok(()))
                .optional()
                .map_err(sql("checking a checklist document"))?;
            if found.is_none() && !unknown.contains(id) {
                unknown.push(id.clone());
            }
        }
    }
    if !unknown.is_empty() {
        return Ok(Err(ChecklistProblem::UnknownDocuments {
            holder: holder.to_owned(),
            ids: unknown,
        }));
    }
    // Confirmations travel separately; a PUT never carries them in.
    let mut definition = checklist.clone();
    for step in &mut definition.steps {
        for checkpoint in &mut step.checkpoints {
            checkpoint.confirmed = None;
        }
    }
    let json = serde_json::to_string(&definition).map_err(|e| StoreError::Corrupt {
        column: "checklists.checklist",
        value: e.to_string(),
    })?;
    conn.execute(
        "DELETE FROM checklist_confirmations WHERE register_holder = ?1",
        [holder],
    )
    .map_err(sql("clearing checklist confirmations"))?;
    conn.execute(
        "INSERT OR REPLACE INTO checklists (register_holder, checklist, updated_at) \
         VALUES (?1, ?2, ?3)",
        params![holder, json, timestamp(at, "checklists.updated_at")?],
    )
    .map_err(sql("storing a checklist"))?;
    Ok(Ok(()))
}

/// Confirms a checkpoint of a holder's checklist (writer side). `false` when the holder has
/// no such checkpoint. A checkpoint already confirmed keeps its first confirmation.
pub(crate) fn confirm(
    conn: &Connection,
    holder: &str,
    checkpoint_id: &str,
    confirmation: &Confirmation,
) -> Result<bool, StoreError> {
    let Some(checklist) = read_definition(conn, holder)? else {
        return Ok(false);
    };
    if !checklist.checkpoints().any(|(_, c)| c.id == checkpoint_id) {
        return Ok(false);
    }
    conn.execute(
        "INSERT OR IGNORE INTO checklist_confirmations \
         (register_holder, checkpoint_id, confirmed_by, confirmed_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            holder,
            checkpoint_id,
            confirmation.by,
            timestamp(confirmation.at, "checklist_confirmations.confirmed_at")?
        ],
    )
    .map_err(sql("confirming a checkpoint"))?;
    Ok(true)
}

fn read_definition(conn: &Connection, holder: &str) -> Result<Option<Checklist>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT checklist FROM checklists WHERE register_holder = ?1",
            [holder],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading a checklist"))?;
    json.map(|json| {
        serde_json::from_str(&json).map_err(|_| StoreError::Corrupt {
            column: "checklists.checklist",
            value: json,
        })
    })
    .transpose()
}

impl Store {
    /// Replaces the checklist of `register_holder`, clearing its confirmations. The inner
    /// `Err` says why the checklist was refused (nothing is changed then).
    pub fn put_checklist(
        &self,
        register_holder: &str,
        checklist: Checklist,
        at: OffsetDateTime,
    ) -> Result<Result<(), ChecklistProblem>, StoreError> {
        let (reply, answer) = std::sync::mpsc::channel();
        self.send(super::writer::Job::PutChecklist {
            holder: register_holder.to_owned(),
            checklist: Box::new(checklist),
            at,
            reply,
        })?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }

    /// Confirms one checkpoint of `register_holder`'s checklist; `false` when there is no such
    /// checkpoint in that holder's checklist (R8: another holder's checkpoint is not found).
    pub fn confirm_checkpoint(
        &self,
        register_holder: &str,
        checkpoint_id: &str,
        confirmation: Confirmation,
    ) -> Result<bool, StoreError> {
        let (reply, answer) = std::sync::mpsc::channel();
        self.send(super::writer::Job::Confirm {
            holder: register_holder.to_owned(),
            checkpoint_id: checkpoint_id.to_owned(),
            confirmation,
            reply,
        })?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }

    /// The checklist of `register_holder` with its confirmations, if one was put.
    pub fn checklist(&self, register_holder: &str) -> Result<Option<Checklist>, StoreError> {
        self.with_reader(|conn| {
            let Some(mut checklist) = read_definition(conn, register_holder)? else {
                return Ok(None);
            };
            let mut statement = conn
                .prepare_cached(
                    "SELECT checkpoint_id, confirmed_by, confirmed_at FROM checklist_confirmations \
                     WHERE register_holder = ?1",
                )
                .map_err(sql("reading checklist confirmations"))?;
            let rows = statement
                .query_map([register_holder], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })
                .map_err(sql("reading checklist confirmations"))?;
            let mut confirmed = std::collections::HashMap::new();
            for row in rows {
                let (id, by, at) = row.map_err(sql("reading checklist confirmations"))?;
                let at = OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| StoreError::Corrupt {
                        column: "checklist_confirmations.confirmed_at",
                        value: at.clone(),
                    })?;
                confirmed.insert(id, Confirmation { by, at });
            }
            for step in &mut checklist.steps {
                for checkpoint in &mut step.checkpoints {
                    checkpoint.confirmed = confirmed.remove(&checkpoint.id);
                }
            }
            Ok(Some(checklist))
        })
    }
}
