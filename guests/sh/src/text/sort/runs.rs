//! The runs of an external merge sort: lines gathered in memory (`Chunk`),
//! sorted runs spilled to files (`Spills`) and merged a line at a time
//! from each, and where the sorted lines go (`Sink`).

use std::cmp::Ordering;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use super::keys::Spec;
use crate::text::Out;

/// Why writing the sorted lines stopped.
pub(crate) enum Failed {
    /// A file (a spill, `-o`), worded for the user.
    Io(String),
    /// The shell: a reader that went away, the step's budget.
    Shell(bashkit::Error),
}

impl From<bashkit::Error> for Failed {
    fn from(e: bashkit::Error) -> Self {
        Failed::Shell(e)
    }
}

/// Lines held in memory: their bytes end to end, and where each is.
pub(crate) struct Chunk {
    bytes: Vec<u8>,
    lines: Vec<(usize, usize)>,
}

impl Chunk {
    /// A chunk whose bytes are reserved at once: grown by doubling, they
    /// could take twice what they hold.
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Chunk { bytes: Vec::with_capacity(bytes), lines: Vec::new() }
    }

    pub(crate) fn push(&mut self, line: &[u8]) {
        self.lines.push((self.bytes.len(), line.len()));
        self.bytes.extend_from_slice(line);
    }

    /// What the chunk holds, with its index.
    pub(crate) fn size(&self) -> usize {
        self.bytes.len() + self.lines.len() * std::mem::size_of::<(usize, usize)>()
    }

    pub(crate) fn sort(&mut self, spec: &Spec) {
        let bytes = &self.bytes;
        // A stable sort: lines equal by every comparison keep their order,
        // which `-s` and `-u` rely on.
        if spec.keys.is_empty() {
            self.lines.sort_by(|&(a, al), &(b, bl)| spec.order(&bytes[a..a + al], &bytes[b..b + bl]));
            return;
        }
        // Each line's keys found once, not at every comparison.
        let k = spec.keys.len();
        let mut located = Vec::with_capacity(self.lines.len() * k);
        for &(at, len) in &self.lines {
            spec.locate(&bytes[at..at + len], &mut located);
        }
        let mut order: Vec<u32> = (0..self.lines.len() as u32).collect();
        order.sort_by(|&x, &y| {
            let ((a, al), (b, bl)) = (self.lines[x as usize], self.lines[y as usize]);
            let (ak, bk) = (&located[x as usize * k..][..k], &located[y as usize * k..][..k]);
            spec.order_located(&bytes[a..a + al], ak, &bytes[b..b + bl], bk)
        });
        self.lines = order.into_iter().map(|i| self.lines[i as usize]).collect();
    }

    pub(crate) fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.lines.iter().map(|&(at, len)| &self.bytes[at..at + len])
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.lines.clear();
    }
}

/// Where sorted lines go: standard output, or `-o FILE`.
pub(crate) enum Sink {
    Out(Out),
    File(BufWriter<std::fs::File>),
}

impl Sink {
    async fn line(&mut self, line: &[u8], end: u8) -> Result<(), Failed> {
        match self {
            Sink::Out(out) => {
                out.put(line);
                out.put(&[end]);
                out.ready().await?;
            }
            Sink::File(file) => {
                file.write_all(line).and_then(|()| file.write_all(&[end])).map_err(|e| Failed::Io(e.to_string()))?
            }
        }
        Ok(())
    }

    /// Writes `lines`, in order; with `-u` only the first of lines whose
    /// keys compare equal.
    pub(crate) async fn lines<'a>(
        &mut self,
        lines: impl Iterator<Item = &'a [u8]> + Send,
        spec: &Spec,
    ) -> Result<(), Failed> {
        let mut previous: Option<&[u8]> = None;
        for line in lines {
            if spec.unique && previous.is_some_and(|p| spec.keys_order(p, line) == Ordering::Equal) {
                continue;
            }
            self.line(line, spec.end).await?;
            previous = Some(line);
        }
        Ok(())
    }

    pub(crate) async fn finish(&mut self) -> Result<(), Failed> {
        match self {
            Sink::Out(out) => Ok(out.flush().await?),
            Sink::File(file) => file.flush().map_err(|e| Failed::Io(e.to_string())),
        }
    }
}

/// The sorted runs written to files so far.
pub(crate) struct Spills {
    dir: PathBuf,
    /// The directory as the user named it, for messages.
    shown: String,
    files: Vec<PathBuf>,
    /// Names this sort's files from others' in the same directory.
    tag: u32,
}

impl Spills {
    pub(crate) fn new(dir: PathBuf, shown: String) -> Self {
        let mut tag = [0u8; 4];
        let _ = getrandom::fill(&mut tag);
        Spills { dir, shown, files: Vec::new(), tag: u32::from_le_bytes(tag) }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Sorts `chunk`, writes it to a new spill file and empties it.
    pub(crate) fn spill(&mut self, chunk: &mut Chunk, spec: &Spec) -> Result<(), String> {
        chunk.sort(spec);
        let path = self.dir.join(format!(".runbox-sort-{:08x}-{}", self.tag, self.files.len()));
        let cannot = |e: std::io::Error| {
            format!("cannot create temporary file in '{}': {}", self.shown, crate::text::reason(&e))
        };
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(cannot)?;
        self.files.push(path);
        let mut writer = BufWriter::with_capacity(64 * 1024, file);
        for line in chunk.lines() {
            writer.write_all(line).and_then(|()| writer.write_all(&[spec.end])).map_err(cannot)?;
        }
        writer.flush().map_err(cannot)?;
        chunk.clear();
        Ok(())
    }

    /// Merges the runs into `sink`, removing each file once it is read.
    pub(crate) async fn merge(&mut self, spec: &Spec, sink: &mut Sink) -> Result<(), Failed> {
        let mut runs = Vec::with_capacity(self.files.len());
        for path in &self.files {
            let file = std::fs::File::open(path).map_err(|e| Failed::Io(e.to_string()))?;
            let reader = BufReader::with_capacity(32 * 1024, file);
            runs.push(Run { reader, line: Vec::new(), keys: Vec::new(), path: path.clone() });
        }
        // A heap of the runs by their current line; ties go to the earlier
        // run, so equal lines keep their input order.
        let mut heap: Vec<usize> = Vec::with_capacity(runs.len());
        for i in 0..runs.len() {
            if runs[i].advance(spec)? {
                heap.push(i);
                sift_up(&mut heap, &runs, spec);
            }
        }
        let mut previous: Option<Vec<u8>> = None;
        while let Some(&top) = heap.first() {
            let line = &runs[top].line;
            let repeated = spec.unique && previous.as_deref().is_some_and(|p| spec.keys_order(p, line).is_eq());
            if !repeated {
                sink.line(line, spec.end).await?;
                if spec.unique {
                    previous = Some(line.clone());
                }
            }
            if !runs[top].advance(spec)? {
                let _ = std::fs::remove_file(&runs[top].path);
                let last = heap.pop().unwrap_or(top);
                if heap.is_empty() {
                    break;
                }
                heap[0] = last;
            }
            sift_down(&mut heap, &runs, spec);
        }
        self.files.clear();
        Ok(())
    }
}

impl Drop for Spills {
    /// A sort that ended early (a reader that went away, an error) leaves
    /// no spill file behind.
    fn drop(&mut self) {
        for path in &self.files {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One spilled run being merged, at its current line, with where that
/// line's keys are.
struct Run {
    reader: BufReader<std::fs::File>,
    line: Vec<u8>,
    keys: Vec<(u32, u32)>,
    path: PathBuf,
}

impl Run {
    /// Reads the next line; false at the end.
    fn advance(&mut self, spec: &Spec) -> Result<bool, Failed> {
        self.line.clear();
        let read = self.reader.read_until(spec.end, &mut self.line).map_err(|e| Failed::Io(e.to_string()))?;
        if self.line.last() == Some(&spec.end) {
            self.line.pop();
        }
        self.keys.clear();
        spec.locate(&self.line, &mut self.keys);
        Ok(read > 0)
    }
}

fn before(a: usize, b: usize, runs: &[Run], spec: &Spec) -> bool {
    match spec.order_located(&runs[a].line, &runs[a].keys, &runs[b].line, &runs[b].keys) {
        Ordering::Less => true,
        Ordering::Equal => a < b,
        Ordering::Greater => false,
    }
}

fn sift_up(heap: &mut [usize], runs: &[Run], spec: &Spec) {
    let mut at = heap.len() - 1;
    while at > 0 {
        let parent = (at - 1) / 2;
        if !before(heap[at], heap[parent], runs, spec) {
            break;
        }
        heap.swap(at, parent);
        at = parent;
    }
}

fn sift_down(heap: &mut [usize], runs: &[Run], spec: &Spec) {
    let mut at = 0;
    loop {
        let (left, right) = (2 * at + 1, 2 * at + 2);
        let mut least = at;
        if left < heap.len() && before(heap[left], heap[least], runs, spec) {
            least = left;
        }
        if right < heap.len() && before(heap[right], heap[least], runs, spec) {
            least = right;
        }
        if least == at {
            return;
        }
        heap.swap(at, least);
        at = least;
    }
}
