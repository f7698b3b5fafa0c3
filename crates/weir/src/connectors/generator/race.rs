//! AWS DeepRacer race steps keyed by episode id (`"ep-0001"`).
//!
//! The value is the DeepRacer reward-function `params` dict. The track is a
//! counter-clockwise rounded rectangle (two 5 m straights, 1.8 m radius
//! turns) sampled as 60 waypoints forming a closed loop, 0.76 m wide. A car
//! drives along the centre line with a wobbling lateral offset at 15 steps per
//! second of event time. An episode ends when the car goes off track
//! (`distance_from_center > track_width / 2`) or reaches 100% progress; the
//! next episode starts at another waypoint. `distance_from_center`,
//! `closest_waypoints` and `is_left_of_center` are computed from the printed
//! `x`, `y` and waypoints. `all_wheels_on_track` is false as soon as the
//! car's edge (0.1 m from its centre) crosses a border, so it turns false
//! slightly before `is_offtrack` turns true. No objects; nothing is planted.

use std::f64::consts::PI;

use super::data::{EPOCH_MS, Generated, Generator, Rng, fixed, math};

const WAYPOINTS: usize = 60;
const TRACK_WIDTH: f64 = 0.76;
const HALF_WIDTH: f64 = TRACK_WIDTH / 2.0;
const CAR_HALF_WIDTH: f64 = 0.1;
const WHEELBASE: f64 = 0.165;
const STEPS_PER_S: i64 = 15;
const DT: f64 = 1.0 / STEPS_PER_S as f64;
const CENTER: (f64, f64) = (5.0, 3.0);
const HALF_STRAIGHT: f64 = 2.5;
const RADIUS: f64 = 1.8;

/// Rounds to the 4 decimals printed, so computations see the printed values.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Waypoint `i` (mod 60) of the analytic centre line, starting mid-way
/// along the bottom straight.
fn waypoint(i: usize) -> (f64, f64) {
    let (a, r) = (HALF_STRAIGHT, RADIUS);
    let len = 4.0 * a + 2.0 * PI * r;
    let s = ((i % WAYPOINTS) as f64 * len / WAYPOINTS as f64 + a) % len;
    let (cx, cy) = CENTER;
    let (x, y) = if s < 2.0 * a {
        (cx - a + s, cy - r)
    } else if s < 2.0 * a + PI * r {
        let t = -PI / 2.0 + (s - 2.0 * a) / r;
        (cx + a + r * math::cos(t), cy + r * math::sin(t))
    } else if s < 4.0 * a + PI * r {
        (cx + a - (s - 2.0 * a - PI * r), cy + r)
    } else {
        let t = PI / 2.0 + (s - 4.0 * a - PI * r) / r;
        (cx - a + r * math::cos(t), cy + r * math::sin(t))
    };
    (round4(x), round4(y))
}

fn unit(x: f64, y: f64) -> (f64, f64) {
    let n = (x * x + y * y).sqrt();
    if n > 0.0 { (x / n, y / n) } else { (1.0, 0.0) }
}

/// Left normal of the segment from waypoint `i` to `i + 1`.
fn left_normal(i: usize) -> (f64, f64) {
    let (a, b) = (waypoint(i), waypoint(i + 1));
    let (dx, dy) = unit(b.0 - a.0, b.1 - a.1);
    (-dy, dx)
}

/// Centre-line segment from waypoint `i` to `i + 1`.
struct Segment {
    i: usize,
    a: (f64, f64),
    b: (f64, f64),
    len: f64,
    /// Arc length of the centre line up to `a`.
    start: f64,
    /// Left normals at `a` and `b`, averaged over the adjacent segments.
    na: (f64, f64),
    nb: (f64, f64),
}

fn segment(i: usize) -> Segment {
    let (a, b) = (waypoint(i), waypoint(i + 1));
    let vertex_normal = |j: usize| {
        let (p, q) = (left_normal(j + WAYPOINTS - 1), left_normal(j));
        unit(p.0 + q.0, p.1 + q.1)
    };
    let seg_len = |j: usize| {
        let (p, q) = (waypoint(j), waypoint(j + 1));
        ((q.0 - p.0) * (q.0 - p.0) + (q.1 - p.1) * (q.1 - p.1)).sqrt()
    };
    Segment {
        i,
        a,
        b,
        len: seg_len(i),
        start: (0..i).map(seg_len).sum(),
        na: vertex_normal(i),
        nb: vertex_normal(i + 1),
    }
}

/// Distance from `p` to the segment, and whether `p` is left of it.
fn distance(seg: &Segment, p: (f64, f64)) -> (f64, bool) {
    let (dx, dy) = (seg.b.0 - seg.a.0, seg.b.1 - seg.a.1);
    let (px, py) = (p.0 - seg.a.0, p.1 - seg.a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        ((px * dx + py * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (px - t * dx, py - t * dy);
    ((ex * ex + ey * ey).sqrt(), dx * py - dy * px > 0.0)
}

/// Per-episode driving state.
struct Car {
    episode: u64,
    steps: u64,
    start: f64,
    travelled: f64,
    offset: f64,
    lateral: f64,
    wobble: f64,
    speed: f64,
    cruise: f64,
    heading: f64,
}

/// The DeepRacer workload (see the module docs).
pub struct Race {
    rng: Rng,
    tick: i64,
    track: [Segment; WAYPOINTS],
    track_length: f64,
    /// Pre-rendered `"waypoints":[...]` value.
    waypoints_json: String,
    car: Car,
}

impl Race {
    /// Creates the workload for `seed`.
    pub fn new(seed: u64) -> Self {
        let track: [Segment; WAYPOINTS] = std::array::from_fn(segment);
        let track_length = track.iter().map(|s| s.len).sum();
        let points: Vec<String> = (0..WAYPOINTS)
            .map(|i| {
                let (x, y) = waypoint(i);
                format!("[{},{}]", fixed(x, 4), fixed(y, 4))
            })
            .collect();
        let mut rng = Rng::new(seed);
        let car = Self::episode(&mut rng, 1, track_length);
        Self {
            rng,
            tick: 0,
            track,
            track_length,
            waypoints_json: format!("[{}]", points.join(",")),
            car,
        }
    }

    fn episode(rng: &mut Rng, episode: u64, track_length: f64) -> Car {
        let start_wp = (episode.saturating_sub(1) * 7) % WAYPOINTS as u64;
        Car {
            episode,
            steps: 0,
            start: track_length * start_wp as f64 / WAYPOINTS as f64,
            travelled: 0.0,
            offset: rng.normal(0.0, 0.03),
            lateral: 0.0,
            wobble: rng.range_f64(0.15, 0.9),
            speed: 0.5,
            cruise: rng.range_f64(1.5, 3.2),
            heading: f64::NAN,
        }
    }
}

impl Generator for Race {
    fn next_record(&mut self) -> Generated {
        let ts = EPOCH_MS.saturating_add(self.tick.saturating_mul(1_000) / STEPS_PER_S);
        self.tick = self.tick.saturating_add(1);
        let (rng, car) = (&mut self.rng, &mut self.car);
        car.steps = car.steps.saturating_add(1);
        car.speed =
            (car.speed + 0.3 * (car.cruise - car.speed) + rng.normal(0.0, 0.05)).clamp(0.3, 4.0);
        car.travelled += car.speed * DT;
        // Lightly damped oscillator driven by noise: the wobble.
        car.lateral += (-4.0 * car.offset - 1.0 * car.lateral) * DT
            + car.wobble * DT.sqrt() * rng.normal(0.0, 1.0);
        car.offset += car.lateral * DT;
        // Floored to the printed 2 decimals so 100.00 is printed only when done.
        let progress = ((10_000.0 * car.travelled / self.track_length).floor() / 100.0).min(100.0);

        // Position: centre line at arc length s, shifted along the
        // interpolated left normal.
        let s = (car.start + car.travelled) % self.track_length;
        let [first, rest @ ..] = &self.track;
        let seg = rest.iter().rev().find(|g| g.start <= s).unwrap_or(first);
        let t = if seg.len > 0.0 {
            ((s - seg.start) / seg.len).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let n = unit(
            seg.na.0 + t * (seg.nb.0 - seg.na.0),
            seg.na.1 + t * (seg.nb.1 - seg.na.1),
        );
        let x = round4(seg.a.0 + t * (seg.b.0 - seg.a.0) + car.offset * n.0);
        let y = round4(seg.a.1 + t * (seg.b.1 - seg.a.1) + car.offset * n.1);
        let track_dir = math::atan2(-n.0, n.1);
        let heading = track_dir + math::atan2(car.lateral, car.speed);
        let turn = if car.heading.is_nan() {
            0.0
        } else {
            heading - car.heading
        };
        let turn = turn - 2.0 * PI * (turn / (2.0 * PI)).round();
        car.heading = heading;
        let steering =
            (math::atan(WHEELBASE * turn / DT / car.speed) * 180.0 / PI).clamp(-30.0, 30.0);
        let heading_deg = (heading - 2.0 * PI * (heading / (2.0 * PI)).round()) * 180.0 / PI;

        let (dist, left, closest) = rest.iter().fold(
            {
                let (d, l) = distance(first, (x, y));
                (d, l, first.i)
            },
            |best, g| {
                let (d, l) = distance(g, (x, y));
                if d < best.0 { (d, l, g.i) } else { best }
            },
        );
        let dist = round4(dist);
        let offtrack = dist > HALF_WIDTH;
        let on_track = dist + CAR_HALF_WIDTH <= HALF_WIDTH;
        let done = offtrack || progress >= 100.0;
        let key = format!("ep-{:04}", car.episode);
        let value = format!(
            "{{\"all_wheels_on_track\":{on_track},\"x\":{},\"y\":{},\"closest_objects\":[0,0],\
             \"closest_waypoints\":[{closest},{}],\"distance_from_center\":{},\"is_crashed\":false,\
             \"is_left_of_center\":{left},\"is_offtrack\":{offtrack},\"is_reversed\":false,\
             \"heading\":{},\"objects_distance\":[],\"objects_heading\":[],\
             \"objects_left_of_center\":[],\"objects_location\":[],\"objects_speed\":[],\
             \"progress\":{},\"speed\":{},\"steering_angle\":{},\"steps\":{},\
             \"track_length\":{},\"track_width\":{TRACK_WIDTH},\"waypoints\":{}}}",
            fixed(x, 4),
            fixed(y, 4),
            (closest + 1) % WAYPOINTS,
            fixed(dist, 4),
            fixed(heading_deg, 2),
            fixed(progress, 2),
            fixed(car.speed, 2),
            fixed(steering, 1),
            car.steps,
            fixed(self.track_length, 4),
            self.waypoints_json,
        );
        if done {
            *car = Self::episode(rng, car.episode.saturating_add(1), self.track_length);
        }
        Generated {
            key: key.into_bytes(),
            value: value.into_bytes(),
            timestamp_ms: ts,
            planted: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use serde_json::Value;

    use super::super::data::parse_value;
    use super::*;

    type TestResult = Result<(), Box<dyn Error>>;

    const KEYS: &str = "all_wheels_on_track,x,y,closest_objects,closest_waypoints,\
        distance_from_center,is_crashed,is_left_of_center,is_offtrack,is_reversed,heading,\
        objects_distance,objects_heading,objects_left_of_center,objects_location,objects_speed,\
        progress,speed,steering_angle,steps,track_length,track_width,waypoints";

    fn point(v: &Value) -> Option<(f64, f64)> {
        Some((v[0].as_f64()?, v[1].as_f64()?))
    }

    /// Distance from `p` to segment `a`-`b`, independent of the generator.
    fn seg_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
        (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
    }

    #[test]
    fn params_are_consistent_with_the_track() -> TestResult {
        let mut g = Race::new(42);
        let (mut episode, mut steps, mut progress) = (String::new(), 0, 0.0);
        let (mut ended_done, mut ended_offtrack, mut wheels_off_only) = (0, 0, 0);
        let mut expect_new_episode = true;
        for i in 0..20_000 {
            let r = g.next_record();
            assert_eq!(r.planted, None);
            let v = parse_value(&r.value, KEYS)?;
            let text = std::str::from_utf8(&r.value)?;
            assert!((1_400..1_450).contains(&text.len()), "{} bytes", text.len());
            assert_eq!(r.timestamp_ms, EPOCH_MS + i * 1_000 / 15);

            let wps: Vec<(f64, f64)> = v["waypoints"]
                .as_array()
                .ok_or("waypoints")?
                .iter()
                .filter_map(point)
                .collect();
            assert_eq!(wps.len(), WAYPOINTS);
            let segs: Vec<((f64, f64), (f64, f64))> = wps
                .iter()
                .copied()
                .zip(wps.iter().copied().cycle().skip(1))
                .collect();
            let length: f64 = segs.iter().map(|(a, b)| (b.0 - a.0).hypot(b.1 - a.1)).sum();
            let f = |k: &str| v[k].as_f64().ok_or(format!("{k} in {text}"));
            assert!((f("track_length")? - length).abs() < 1e-3);
            assert!((21.0..21.4).contains(&length), "{length}");
            assert_eq!(f("track_width")?, 0.76);

            let p = (f("x")?, f("y")?);
            let dist = f("distance_from_center")?;
            let nearest = segs
                .iter()
                .map(|&(a, b)| seg_distance(p, a, b))
                .fold(f64::INFINITY, f64::min);
            assert!((dist - nearest).abs() < 1e-3, "{dist} vs {nearest}");
            let cw = v["closest_waypoints"]
                .as_array()
                .ok_or("closest_waypoints")?;
            let (prev, next) = (
                cw[0].as_u64().ok_or("prev")? as usize,
                cw[1].as_u64().ok_or("next")? as usize,
            );
            assert_eq!(next, (prev + 1) % WAYPOINTS);
            let (a, b) = *segs.get(prev).ok_or("prev out of range")?;
            assert!((seg_distance(p, a, b) - nearest).abs() < 1e-3);
            let left = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0) > 0.0;
            if dist > 1e-3 {
                assert_eq!(v["is_left_of_center"].as_bool(), Some(left), "{text}");
            }

            let offtrack = v["is_offtrack"].as_bool().ok_or("is_offtrack")?;
            let on_track = v["all_wheels_on_track"]
                .as_bool()
                .ok_or("all_wheels_on_track")?;
            assert_eq!(offtrack, dist > 0.38);
            assert!(!(offtrack && on_track));
            wheels_off_only += usize::from(!offtrack && !on_track);
            for k in [
                "objects_distance",
                "objects_heading",
                "objects_left_of_center",
                "objects_location",
                "objects_speed",
            ] {
                assert_eq!(v[k].as_array().map(Vec::len), Some(0), "{k}");
            }
            assert_eq!(v["closest_objects"], serde_json::json!([0, 0]));
            assert_eq!(
                (v["is_crashed"].as_bool(), v["is_reversed"].as_bool()),
                (Some(false), Some(false))
            );
            assert!((-30.0..=30.0).contains(&f("steering_angle")?));
            assert!((-180.0..=180.0).contains(&f("heading")?));
            assert!((0.3..=4.0).contains(&f("speed")?));

            let key = std::str::from_utf8(&r.key)?.to_string();
            let (s, pr) = (v["steps"].as_u64().ok_or("steps")?, f("progress")?);
            if expect_new_episode {
                assert_ne!(key, episode);
                assert_eq!(s, 1);
            } else {
                assert_eq!(key, episode);
                assert_eq!(s, steps + 1);
                assert!(pr >= progress, "progress went back: {progress} -> {pr}");
            }
            assert!((0.0..=100.0).contains(&pr));
            (episode, steps, progress) = (key, s, pr);
            expect_new_episode = offtrack || pr >= 100.0;
            ended_done += usize::from(pr >= 100.0);
            ended_offtrack += usize::from(offtrack);
        }
        println!(
            "race: {ended_done} laps completed, {ended_offtrack} off-track ends, {wheels_off_only} wheels-off steps, last {episode}"
        );
        assert!(
            ended_done >= 10 && ended_offtrack >= 10,
            "{ended_done} {ended_offtrack}"
        );
        assert!(wheels_off_only > 0);
        Ok(())
    }

    #[test]
    fn waypoints_follow_the_analytic_track() {
        let g = Race::new(1);
        for (i, s) in g.track.iter().enumerate() {
            assert_eq!(s.i, i);
            assert_eq!(s.b, waypoint(i + 1));
            assert!((s.len - g.track_length / WAYPOINTS as f64).abs() < 0.01);
            // Normals point left, to the inside of the counter-clockwise loop.
            let (mx, my) = ((s.a.0 + s.b.0) / 2.0, (s.a.1 + s.b.1) / 2.0);
            let toward = (CENTER.0 - mx) * s.na.0 + (CENTER.1 - my) * s.na.1;
            assert!(toward > 0.0, "segment {i}");
        }
        assert_eq!(g.waypoints_json.matches('[').count(), WAYPOINTS + 1);
    }
}
