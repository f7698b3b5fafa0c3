//! Test fixture (scorer, raw bindings): scores every record 0.5, and abuses
//! the host when a record matches its trigger (see the shared
//! `attacks.rs`). Its own attacks: `nan`, `inf` and `neg_inf` (that score
//! for the trigger record), `bad_label` (a label past the batch),
//! `label_flood` (two million labels), `score_count` (one score too many).

#[path = "../../hostile-filter/src/attacks.rs"]
mod attacks;

use weir_plugin::bindings::exports::weir::plugin::scorer_plugin::{
    Batch, Guest, Label, Scores, Settings,
};

struct Hostile;

impl Guest for Hostile {
    fn init(settings: Settings) -> Result<(), String> {
        attacks::init(settings)
    }

    fn process(batch: Batch) -> Scores {
        let n = batch.records.value_ends.len() as u32;
        let mut scores = Scores {
            scores: vec![0.5; n as usize],
            labels: Vec::new(),
            errors: Vec::new(),
        };
        let Some((attack, at)) =
            attacks::world_attack(&batch.records.values, &batch.records.value_ends)
        else {
            return scores;
        };
        match attack.as_str() {
            "nan" => scores.scores[at] = f64::NAN,
            "inf" => scores.scores[at] = f64::INFINITY,
            "neg_inf" => scores.scores[at] = f64::NEG_INFINITY,
            "bad_label" => scores.labels.push(Label {
                index: n,
                text: "past the batch".into(),
            }),
            "label_flood" => {
                scores.labels = (0..2_000_000)
                    .map(|_| Label {
                        index: at as u32,
                        text: String::new(),
                    })
                    .collect();
            }
            "score_count" => scores.scores.push(0.5),
            other => panic!("unknown attack `{other}`"),
        }
        scores
    }
}

weir_plugin::bindings::export!(Hostile);
