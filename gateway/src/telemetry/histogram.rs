//! The gateway's histograms: fixed buckets counted where they are recorded, rendered in the
//! Prometheus text format by the exporter's own formatting functions, so `/metrics` reads as it
//! would from the exporter.
//!
//! The exporter keeps every sample in a shared queue (an atomic push under an epoch pin, plus a
//! generation counter) until its upkeep or a scrape sorts them into buckets: a `tools/call`
//! records five samples, each paid for on the request and again when it is sorted, and the
//! queue holds every sample since the last upkeep. Here a sample
//! is one bucket increment and one addition to the sum, in memory its thread owns: each thread
//! that registers a series gets its own counts for it, which only that thread writes (plain
//! loads and stores, no locked instruction), and `/metrics` adds the threads' counts up. A
//! handle used on a thread other than the one that registered it counts into the series' shared
//! counts with atomic additions instead, so no sample is lost whichever thread records it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use metrics::{Histogram, HistogramFn, Key, SharedString};
use metrics_exporter_prometheus::formatting::{
    key_to_parts, write_help_line, write_metric_line, write_type_line,
};

use super::lock;

/// Every histogram registered so far, by key.
pub struct Histograms {
    bounds: fn(&str) -> &'static [f64],
    series: Mutex<HashMap<Key, Arc<Series>>>,
    descriptions: Mutex<HashMap<String, SharedString>>,
}

/// One label set of one histogram.
struct Series {
    name: String,
    labels: Vec<String>,
    bounds: &'static [f64],
    /// Counts of handles recorded on a thread that did not register them.
    shared: Counts,
    /// Each registering thread's counts, by [`thread_token`].
    owned: Mutex<Vec<(usize, Counts)>>,
}

/// A series' counts of one thread (or the shared ones), in one allocation: the sum of the
/// samples (an `f64`'s bits) first, next to the first buckets, which take most samples; then
/// the samples per bucket (not cumulative), the last one past every bound.
type Counts = Arc<[AtomicU64]>;

/// What [`Histograms::register`] hands out: the series' counts of the registering thread.
struct Handle {
    owner: usize,
    bounds: &'static [f64],
    mine: Counts,
    series: Arc<Series>,
}

thread_local! {
    static TOKEN: u8 = const { 0 };
}

/// Tells the running thread from every other live one: the address of its own copy of a
/// thread-local. A thread that starts after another ended may get the same token, and with it
/// the ended thread's counts, which still have one writer.
fn thread_token() -> usize {
    TOKEN.with(|t| std::ptr::from_ref(t) as usize)
}

const SUM: usize = 0;

/// Zero counts for `bounds` (the bits of 0.0 are zero too).
fn counts(bounds: &[f64]) -> Counts {
    (0..bounds.len() + 2).map(|_| AtomicU64::new(0)).collect()
}

/// The slot of `value`'s bucket: the first bound it does not exceed, else the last bucket. NaN
/// exceeds every bound, as the exporter counts it. Bounds are few and most samples fall in the
/// first buckets, so a scan from the start takes one or two comparisons.
fn slot(bounds: &[f64], value: f64) -> usize {
    1 + bounds
        .iter()
        .position(|bound| value <= *bound)
        .unwrap_or(bounds.len())
}

/// For the one thread that writes `counts`.
fn add_as_owner(counts: &[AtomicU64], slot: usize, value: f64) {
    let n = &counts[slot];
    n.store(n.load(Relaxed) + 1, Relaxed);
    let sum = f64::from_bits(counts[SUM].load(Relaxed)) + value;
    counts[SUM].store(sum.to_bits(), Relaxed);
}

/// For counts any thread may write.
fn add_shared(counts: &[AtomicU64], slot: usize, value: f64) {
    counts[slot].fetch_add(1, Relaxed);
    let mut sum = counts[SUM].load(Relaxed);
    loop {
        let next = (f64::from_bits(sum) + value).to_bits();
        match counts[SUM].compare_exchange_weak(sum, next, Relaxed, Relaxed) {
            Ok(_) => return,
            Err(now) => sum = now,
        }
    }
}

impl Series {
    /// Per-bucket counts and the sum over every thread's counts.
    fn totals(&self) -> (Vec<u64>, f64) {
        let mut buckets = vec![0u64; self.bounds.len() + 1];
        let mut sum = 0.0;
        let owned = lock(&self.owned);
        for counts in owned.iter().map(|(_, c)| c).chain([&self.shared]) {
            for (total, n) in buckets.iter_mut().zip(&counts[SUM + 1..]) {
                *total += n.load(Relaxed);
            }
            sum += f64::from_bits(counts[SUM].load(Relaxed));
        }
        (buckets, sum)
    }
}

impl HistogramFn for Handle {
    fn record(&self, value: f64) {
        let slot = slot(self.bounds, value);
        if thread_token() == self.owner {
            add_as_owner(&self.mine, slot, value);
        } else {
            add_shared(&self.series.shared, slot, value);
        }
    }
}

impl Histograms {
    /// `bounds` gives each histogram name its buckets' upper bounds, in increasing order.
    pub fn new(bounds: fn(&str) -> &'static [f64]) -> Self {
        Histograms {
            bounds,
            series: Mutex::default(),
            descriptions: Mutex::default(),
        }
    }

    /// The `# HELP` text of a histogram name; the first description given stays.
    pub fn describe(&self, name: &str, description: SharedString) {
        lock(&self.descriptions)
            .entry(name.to_owned())
            .or_insert(description);
    }

    /// A handle on `key`'s series that counts into the calling thread's own counts.
    pub fn register(&self, key: &Key) -> Histogram {
        let series = lock(&self.series)
            .entry(key.clone())
            .or_insert_with(|| {
                let (name, labels) = key_to_parts(key, None);
                let bounds = (self.bounds)(&name);
                Arc::new(Series {
                    name,
                    labels,
                    bounds,
                    shared: counts(bounds),
                    owned: Mutex::default(),
                })
            })
            .clone();
        let owner = thread_token();
        let mine = {
            let mut owned = lock(&series.owned);
            match owned.iter().find(|(token, _)| *token == owner) {
                Some((_, counts)) => counts.clone(),
                None => {
                    let counts = counts(series.bounds);
                    owned.push((owner, counts.clone()));
                    counts
                }
            }
        };
        Histogram::from_arc(Arc::new(Handle {
            owner,
            bounds: series.bounds,
            mine,
            series,
        }))
    }

    /// Every series in the Prometheus text format, by name, then by labels.
    pub fn render(&self) -> String {
        let mut by_name: BTreeMap<String, Vec<Arc<Series>>> = BTreeMap::new();
        for series in lock(&self.series).values() {
            by_name
                .entry(series.name.clone())
                .or_default()
                .push(series.clone());
        }
        let descriptions = lock(&self.descriptions);
        let mut out = String::new();
        for (name, mut all) in by_name {
            all.sort_by(|a, b| a.labels.cmp(&b.labels));
            if let Some(description) = descriptions.get(&name) {
                write_help_line(&mut out, &name, description);
            }
            write_type_line(&mut out, &name, "histogram");
            for series in all {
                let (buckets, sum) = series.totals();
                let mut line = |suffix, le: Option<&dyn Display>, value: &dyn Display| {
                    let le = le.map(|bound| ("le", bound));
                    write_metric_line(
                        &mut out,
                        &name,
                        Some(suffix),
                        &series.labels,
                        le,
                        value,
                        None,
                    );
                };
                let mut below = 0u64;
                for (bound, n) in series.bounds.iter().zip(&buckets) {
                    below += n;
                    line("bucket", Some(bound), &below);
                }
                let count: u64 = buckets.iter().sum();
                line("bucket", Some(&"+Inf"), &count);
                line("sum", None, &sum);
                line("count", None, &count);
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::Recorder as _;
    use metrics_exporter_prometheus::PrometheusBuilder;

    const BOUNDS: &[f64] = &[1.0, 2.5, 10.0];

    fn bounds(_: &str) -> &'static [f64] {
        BOUNDS
    }

    fn key(name: &'static str, route: &'static str) -> Key {
        Key::from_parts(name, vec![metrics::Label::new("route", route)])
    }

    fn sorted_lines(text: &str) -> Vec<&str> {
        let mut lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        lines.sort_unstable();
        lines
    }

    #[test]
    fn renders_what_the_exporter_renders_for_the_same_samples() {
        let exporter = PrometheusBuilder::new()
            .set_buckets(BOUNDS)
            .unwrap()
            .build_recorder();
        let ours = Histograms::new(bounds);
        let metadata = metrics::Metadata::new("test", metrics::Level::INFO, None);
        let samples = [0.0, 1.0, 1.5, 2.5, 3.0, 10.0, 11.0, 0.25, f64::NAN];
        for (name, route) in [("lat_ms", "a"), ("lat_ms", "b\"q"), ("size", "a")] {
            let theirs = exporter.register_histogram(&key(name, route), &metadata);
            let mine = ours.register(&key(name, route));
            for v in samples.iter().filter(|v| !v.is_nan() || route == "a") {
                theirs.record(*v);
                mine.record(*v);
            }
        }
        let expected = exporter.handle().render();
        let rendered = ours.render();
        assert_eq!(sorted_lines(&rendered), sorted_lines(&expected));
        assert!(rendered.contains("lat_ms_bucket{route=\"a\",le=\"2.5\"} 5\n"));
        assert!(rendered.contains("lat_ms_bucket{route=\"b\\\"q\",le=\"+Inf\"} 8\n"));
        assert!(
            rendered
                .starts_with("# TYPE lat_ms histogram\nlat_ms_bucket{route=\"a\",le=\"1\"} 3\n"),
            "one TYPE line per name, series in label order:\n{rendered}"
        );
    }

    #[test]
    fn a_thread_reregistering_a_series_keeps_counting_into_its_own_counts() {
        let ours = Histograms::new(bounds);
        ours.register(&key("x", "a")).record(1.0);
        ours.register(&key("x", "a")).record(5.0);
        let series = lock(&ours.series).values().next().unwrap().clone();
        assert_eq!(
            lock(&series.owned).len(),
            1,
            "one thread, one set of counts"
        );
        assert_eq!(series.totals(), (vec![1, 0, 1, 0], 6.0));
    }

    #[test]
    fn no_sample_is_lost_when_handles_record_on_other_threads() {
        let ours = Arc::new(Histograms::new(bounds));
        let moved = ours.register(&key("x", "a"));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let ours = ours.clone();
                let moved = moved.clone();
                std::thread::spawn(move || {
                    let own = ours.register(&key("x", "a"));
                    for i in 0..10_000u32 {
                        // Registered here: this thread's counts. Registered on the test's
                        // thread: the shared ones, which every thread adds to.
                        own.record(f64::from(i % 4));
                        moved.record(f64::from(t));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let series = lock(&ours.series).values().next().unwrap().clone();
        let (buckets, sum) = series.totals();
        assert_eq!(buckets.iter().sum::<u64>(), 80_000);
        // own: 0,1 → ≤1; 2 → ≤2.5; 3 → ≤10. moved: t = 0,1 → ≤1; 2 → ≤2.5; 3 → ≤10.
        assert_eq!(
            buckets,
            vec![20_000 + 20_000, 10_000 + 10_000, 10_000 + 10_000, 0]
        );
        assert_eq!(sum, 4.0 * 15_000.0 + 10_000.0 * 6.0);
        assert!(lock(&series.owned).len() >= 2);
    }

    #[test]
    fn descriptions_become_help_lines() {
        let ours = Histograms::new(bounds);
        ours.describe("x", "What x is.".into());
        ours.describe("x", "Ignored.".into());
        ours.register(&key("x", "a")).record(1.0);
        assert!(ours
            .render()
            .starts_with("# HELP x What x is.\n# TYPE x histogram\n"));
    }
}
