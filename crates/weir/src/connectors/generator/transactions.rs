//! Card transactions keyed by card id, with ~1% planted fraud.
//!
//! Value shape (field order fixed):
//! `{"txn_id":"t-00000042","card_id":"c-0137","amount":123.45,"currency":"EUR","merchant":"m-0042","mcc":"5411","country":"DE","channel":"pos","ts":1767225600000}`
//!
//! Planted records (the ONE record a scorer should flag carries the label):
//! - `"burst"`: the 6th of 6 transactions on one card within ~30 s, on a card
//!   idle for the preceding 60 s (the 5th already reaches "5 in 60 s").
//! - `"amount"`: a card with at least 5 transactions spends at least 20x its
//!   typical amount (and more than 10x its running mean).
//! - `"country"`: a transaction abroad less than 9 minutes after the card's
//!   previous transaction at home. The card then stays silent for over an hour,
//!   so returning home never looks like a second country change.
//!
//! 1000 cards, each with a home country (half are `DE`), that country's
//! currency and a typical amount (10 to 200). Event time advances ~500 ms per
//! record (exponential gaps). Normal traffic stays in the home country, keeps
//! every card below 5 transactions per minute, and stays below 4x the typical
//! amount and 6x the card's running mean. A planted country change uses the
//! foreign country's currency and channel `pos`; a planted amount is `ecom`.

use super::data::{EPOCH_MS, Generated, Generator, Rng, math};

const CARDS: usize = 1000;
const MERCHANTS: u64 = 500;
const MEAN_GAP_MS: f64 = 500.0;
/// Probability per record of planting a case (burst 1/4, amount 3/8,
/// country 3/8).
const PLANT_RATE: f64 = 0.01;
const WINDOW_MS: i64 = 60_000;
const BURST_LEN: usize = 6;
const BURST_SPAN_MS: u64 = 30_000;
/// A card goes silent this long after a planted country change.
const AWAY_MS: i64 = 3_600_000 + 60_000;
/// A planted country change follows a home transaction at most this late.
const COUNTRY_GAP_MS: i64 = 540_000;
const SIGMA: f64 = 0.5;
const DEFAULT_COUNTRY: (&str, &str) = ("DE", "EUR");
#[rustfmt::skip]
const COUNTRIES: [(&str, &str); 10] = [
    DEFAULT_COUNTRY, ("FR", "EUR"), ("NL", "EUR"), ("ES", "EUR"), ("IT", "EUR"),
    ("AT", "EUR"), ("GB", "GBP"), ("PL", "PLN"), ("SE", "SEK"), ("CH", "CHF"),
];
const MCCS: [&str; 8] = [
    "5411", "5812", "5541", "5999", "5912", "5732", "4121", "5691",
];
const CHANNELS: [&str; 3] = ["pos", "ecom", "contactless"];

struct Card {
    id: usize,
    home: (&'static str, &'static str),
    /// Mean amount of this card's normal transactions, in currency units.
    typical: f64,
    count: u64,
    sum_cents: i64,
    /// Event times of this card's last 4 transactions, latest first.
    recent: [i64; 4],
    last_ts: i64,
    last_country: &'static str,
    /// Part of a planted burst in progress.
    busy: bool,
    /// Excluded from all traffic until this time.
    away_until: i64,
}

impl Card {
    fn new(id: usize, seed: u64) -> Self {
        let mut rng = Rng::stream(seed, id as u64);
        let home = if rng.chance(0.5) {
            DEFAULT_COUNTRY
        } else {
            rng.pick(&COUNTRIES).copied().unwrap_or(DEFAULT_COUNTRY)
        };
        // Log-uniform typical amount between 10 and 200.
        let typical = math::exp(rng.range_f64(math::ln(10.0), math::ln(200.0)));
        Self {
            id,
            home,
            typical,
            count: 0,
            sum_cents: 0,
            recent: [i64::MIN; 4],
            last_ts: i64::MIN,
            last_country: home.0,
            busy: false,
            away_until: i64::MIN,
        }
    }

    fn mean_cents(&self) -> f64 {
        self.sum_cents as f64 / self.count.max(1) as f64
    }

    /// Whether another transaction now would make 5 within a minute.
    fn crowded(&self, now: i64) -> bool {
        let [.., oldest] = self.recent;
        oldest > now - WINDOW_MS
    }

    fn free(&self, now: i64) -> bool {
        !self.busy && self.away_until <= now
    }

    /// A normal amount in cents: log-normal around `typical`, clipped so that
    /// it never exceeds 4x `typical` nor 6x the running mean.
    fn normal_amount(&self, rng: &mut Rng) -> i64 {
        let mu = math::ln(self.typical) - SIGMA * SIGMA / 2.0;
        let mut cap = 400.0 * self.typical;
        if self.count >= 5 {
            cap = cap.min(6.0 * self.mean_cents());
        }
        let cents = (100.0 * rng.lognormal(mu, SIGMA)).max(50.0).min(cap);
        (cents.floor() as i64).max(1)
    }
}

/// A card whose next transactions are scheduled as a planted burst.
struct Burst {
    card: usize,
    /// Remaining due times, latest first.
    due: Vec<i64>,
}

/// The card-transactions workload (see the module docs).
pub struct Transactions {
    rng: Rng,
    seq: u64,
    now: i64,
    cards: [Card; CARDS],
    bursts: Vec<Burst>,
}

/// Card `i`, or card 0 when `i` is out of range (never: indices come from
/// `Transactions::find`); infallible without indexing.
fn card(cards: &mut [Card; CARDS], i: usize) -> &mut Card {
    let [first, rest @ ..] = cards;
    match i.checked_sub(1).and_then(|j| rest.get_mut(j)) {
        Some(c) => c,
        None => first,
    }
}

impl Transactions {
    /// Creates the workload for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            seq: 0,
            now: EPOCH_MS,
            cards: std::array::from_fn(|i| Card::new(i, seed)),
            bursts: Vec::new(),
        }
    }

    /// The first card at or after a random position satisfying `ok`.
    fn find(&mut self, ok: impl Fn(&Card) -> bool) -> Option<usize> {
        let start = self.rng.index(CARDS);
        (0..CARDS)
            .map(|k| (start + k) % CARDS)
            .find(|&i| self.cards.get(i).is_some_and(&ok))
    }

    /// Records a transaction of card `i` abroad in `COUNTRIES[abroad]`, or at
    /// home when `abroad` is `None`.
    fn emit(
        &mut self,
        i: usize,
        cents: i64,
        abroad: Option<usize>,
        planted: Option<&'static str>,
    ) -> Generated {
        let (now, seq) = (self.now, self.seq);
        let merchant = self.rng.below(MERCHANTS);
        let channel = match planted {
            Some("country") => "pos",
            Some("amount") => "ecom",
            _ => self.rng.pick(&CHANNELS).copied().unwrap_or("pos"),
        };
        let mcc = MCCS
            .get((merchant as usize * 5 + 3) % MCCS.len())
            .copied()
            .unwrap_or("5999");
        let card = card(&mut self.cards, i);
        let (cc, currency) = abroad
            .and_then(|c| COUNTRIES.get(c).copied())
            .unwrap_or(card.home);
        card.count = card.count.saturating_add(1);
        card.sum_cents = card.sum_cents.saturating_add(cents);
        card.last_ts = now;
        card.last_country = cc;
        card.recent.rotate_right(1);
        let [latest, ..] = &mut card.recent;
        *latest = now;
        let key = format!("c-{:04}", card.id);
        let value = format!(
            "{{\"txn_id\":\"t-{seq:08}\",\"card_id\":\"{key}\",\"amount\":{}.{:02},\
             \"currency\":\"{currency}\",\"merchant\":\"m-{merchant:04}\",\"mcc\":\"{mcc}\",\
             \"country\":\"{cc}\",\"channel\":\"{channel}\",\"ts\":{now}}}",
            cents / 100,
            cents % 100,
        );
        Generated {
            key: key.into_bytes(),
            value: value.into_bytes(),
            timestamp_ms: now,
            planted,
        }
    }

    /// The next transaction of a burst that is due, if any.
    fn burst_step(&mut self) -> Option<Generated> {
        let now = self.now;
        let burst = self
            .bursts
            .iter_mut()
            .find(|b| b.due.last().is_some_and(|&t| t <= now))?;
        burst.due.pop();
        let (i, done) = (burst.card, burst.due.is_empty());
        self.bursts.retain(|b| !b.due.is_empty());
        let card = card(&mut self.cards, i);
        card.busy = !done;
        let cents = card.normal_amount(&mut self.rng);
        Some(self.emit(i, cents, None, done.then_some("burst")))
    }

    fn start_burst(&mut self) -> Option<Generated> {
        let now = self.now;
        let i = self.find(|c| c.free(now) && c.last_ts <= now - WINDOW_MS)?;
        let mut due: Vec<i64> = (1..BURST_LEN)
            .map(|_| now.saturating_add(1 + self.rng.below(BURST_SPAN_MS) as i64))
            .collect();
        due.sort_unstable_by(|a, b| b.cmp(a));
        self.bursts.push(Burst { card: i, due });
        let card = card(&mut self.cards, i);
        card.busy = true;
        let cents = card.normal_amount(&mut self.rng);
        Some(self.emit(i, cents, None, None))
    }

    fn plant_amount(&mut self) -> Option<Generated> {
        let now = self.now;
        let i = self.find(|c| c.free(now) && c.count >= 5)?;
        let factor = self.rng.range_f64(1.0, 1.5);
        let card = card(&mut self.cards, i);
        let floor = (2_000.0 * card.typical).max(10.0 * card.mean_cents());
        let cents = (floor * factor).ceil() as i64;
        Some(self.emit(i, cents, None, Some("amount")))
    }

    fn plant_country(&mut self) -> Option<Generated> {
        let now = self.now;
        let i = self.find(|c| {
            c.free(now)
                && c.count >= 1
                && c.last_ts > now - COUNTRY_GAP_MS
                && c.last_country == c.home.0
        })?;
        let offset = 1 + self.rng.index(COUNTRIES.len() - 1);
        let card = card(&mut self.cards, i);
        let home = COUNTRIES
            .iter()
            .position(|c| c.0 == card.home.0)
            .unwrap_or(0);
        card.away_until = now.saturating_add(AWAY_MS);
        let cents = card.normal_amount(&mut self.rng);
        Some(self.emit(
            i,
            cents,
            Some((home + offset) % COUNTRIES.len()),
            Some("country"),
        ))
    }

    fn normal(&mut self) -> Generated {
        let now = self.now;
        let i = self.find(|c| c.free(now) && !c.crowded(now)).unwrap_or(0);
        let cents = card(&mut self.cards, i).normal_amount(&mut self.rng);
        self.emit(i, cents, None, None)
    }
}

impl Generator for Transactions {
    fn next_record(&mut self) -> Generated {
        let planted = if let Some(r) = self.burst_step() {
            Some(r)
        } else if self.rng.chance(PLANT_RATE) {
            // Fewer bursts: each also makes its 5th record fire velocity.
            match self.rng.below(8) {
                0 | 1 => self.start_burst(),
                2..=4 => self.plant_amount(),
                _ => self.plant_country(),
            }
        } else {
            None
        };
        let record = planted.unwrap_or_else(|| self.normal());
        self.seq = self.seq.saturating_add(1);
        let gap = (self.rng.exponential(MEAN_GAP_MS).round() as i64).max(1);
        self.now = self.now.saturating_add(gap);
        record
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::error::Error;

    use super::super::data::parse_value;
    use super::*;

    type TestResult = Result<(), Box<dyn Error>>;

    const KEYS: &str = "txn_id,card_id,amount,currency,merchant,mcc,country,channel,ts";

    /// The scorer the data is calibrated for. Per record, the rules fired:
    /// [velocity, amount, country].
    fn score(records: &[Generated]) -> Result<Vec<[bool; 3]>, Box<dyn Error>> {
        // Per card: event times, count, sum of amounts, last (ts, country).
        type History = (Vec<i64>, u32, f64, Option<(i64, String)>);
        let mut cards: BTreeMap<String, History> = BTreeMap::new();
        let mut out = Vec::new();
        for r in records {
            let v = parse_value(&r.value, KEYS)?;
            let card = v["card_id"].as_str().ok_or("card_id")?;
            let ts = v["ts"].as_i64().ok_or("ts")?;
            let amount = v["amount"].as_f64().ok_or("amount")?;
            let country = v["country"].as_str().ok_or("country")?;
            let (times, count, sum, last) = cards.entry(card.to_string()).or_default();
            times.push(ts);
            let velocity = times.iter().filter(|&&t| t > ts - 60_000).count() >= 5;
            let big = *count >= 5 && amount > 8.0 * *sum / f64::from(*count);
            let moved = last
                .as_ref()
                .is_some_and(|(t, c)| c != country && ts - t < 3_600_000);
            (*count, *sum, *last) = (*count + 1, *sum + amount, Some((ts, country.to_string())));
            out.push([velocity, big, moved]);
        }
        Ok(out)
    }

    fn records(seed: u64, n: usize) -> (Vec<Generated>, Transactions) {
        let mut g = Transactions::new(seed);
        ((0..n).map(|_| g.next_record()).collect(), g)
    }

    #[test]
    fn values_have_the_documented_shape() -> TestResult {
        let (recs, _) = records(42, 10_000);
        for (i, r) in recs.iter().enumerate() {
            let v = parse_value(&r.value, KEYS)?;
            assert_eq!(v["txn_id"], format!("t-{i:08}").as_str());
            assert_eq!(
                v["card_id"].as_str().map(str::as_bytes),
                Some(r.key.as_slice())
            );
            assert_eq!(v["ts"].as_i64(), Some(r.timestamp_ms));
            assert!(v["amount"].as_f64().is_some_and(|a| a > 0.0));
            assert!((150..=175).contains(&r.value.len()), "{v}");
        }
        let first = recs.first().map(|r| r.timestamp_ms);
        let last = recs.last().map_or(0, |r| r.timestamp_ms);
        let mean_gap = (last - EPOCH_MS) as f64 / 9_999.0;
        assert!(
            first == Some(EPOCH_MS) && (450.0..550.0).contains(&mean_gap),
            "{mean_gap}"
        );
        Ok(())
    }

    #[test]
    fn planted_fraud_is_caught_and_normal_traffic_is_quiet() -> TestResult {
        for seed in [42, 0, 1, 2, 3] {
            calibration(seed)?;
        }
        Ok(())
    }

    fn calibration(seed: u64) -> TestResult {
        let (recs, g) = records(seed, 10_000);
        assert!(g.cards.iter().all(|c| (10.0..=200.0).contains(&c.typical)));
        let fired = score(&recs)?;
        let mut planted: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut false_hits, mut false_records) = ([0usize; 3], 0);
        for (i, (r, f)) in recs.iter().zip(&fired).enumerate() {
            let rule = match r.planted {
                Some("burst") => 0,
                Some("amount") => 1,
                Some(_) => 2,
                None => {
                    false_records += usize::from(f.iter().any(|&x| x));
                    for (n, &x) in false_hits.iter_mut().zip(f) {
                        *n += usize::from(x);
                    }
                    // Only a burst's 5th record may fire: the card's next
                    // record is the planted 6th (unless the sample ends).
                    let next = recs.iter().skip(i + 1).find(|n| n.key == r.key);
                    assert!(!f[0] || next.is_none_or(|n| n.planted == Some("burst")));
                    continue;
                }
            };
            let label = r.planted.unwrap_or_default();
            *planted.entry(label).or_default() += 1;
            assert!(
                f[rule],
                "{label} not caught: {}",
                String::from_utf8_lossy(&r.value)
            );
            if label == "amount" {
                let v = parse_value(&r.value, KEYS)?;
                let card = std::str::from_utf8(&r.key)?
                    .trim_start_matches("c-")
                    .parse::<usize>()?;
                let typical = g.cards.get(card).map_or(f64::INFINITY, |c| c.typical);
                assert!(
                    v["amount"].as_f64().is_some_and(|a| a >= 20.0 * typical),
                    "{v}"
                );
            }
        }
        let total: usize = planted.values().sum();
        println!(
            "seed {seed}: planted {planted:?} = {total}; non-planted records firing: \
             {false_records} ([velocity, amount, country] = {false_hits:?})"
        );
        assert!((70..=130).contains(&total) && planted.values().all(|&n| n >= 12));
        assert_eq!(false_hits[1..], [0, 0], "normal amount or country fired");
        assert!(false_records < 50, "{false_records}");
        Ok(())
    }

    #[test]
    fn cards_return_home_quietly_after_a_country_change() -> TestResult {
        let (recs, _) = records(42, 30_000);
        let fired = score(&recs)?;
        let (mut abroad, mut returns) = (0, 0);
        for (i, r) in recs.iter().enumerate() {
            if r.planted == Some("country") {
                abroad += 1;
                let next = recs
                    .iter()
                    .zip(&fired)
                    .skip(i + 1)
                    .find(|(n, _)| n.key == r.key);
                if let Some((n, f)) = next {
                    returns += 1;
                    assert!(n.timestamp_ms - r.timestamp_ms > 3_600_000 && !f[2]);
                }
            }
        }
        assert!(returns >= 10, "{returns} of {abroad}");
        Ok(())
    }
}
