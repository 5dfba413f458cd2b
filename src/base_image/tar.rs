//! A minimal ustar writer for image archives: directories and regular files owned by root, one of
//! them streamed without knowing its size in advance (the layer, which can be gigabytes).

use std::io::{self, Read, Seek, SeekFrom, Write};

pub(super) struct TarWriter<'a, W> {
    out: &'a mut W,
    /// Modification time of every member, Unix seconds.
    mtime: u64,
}

impl<'a, W: Write + Seek> TarWriter<'a, W> {
    pub(super) fn new(out: &'a mut W, mtime: u64) -> Self {
        TarWriter { out, mtime }
    }

    pub(super) fn dir(&mut self, name: &str) -> io::Result<()> {
        self.header(name, b'5', 0o755, 0)
    }

    pub(super) fn file(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.header(name, b'0', 0o644, data.len() as u64)?;
        self.out.write_all(data)?;
        self.pad(data.len() as u64)
    }

    /// Streams `data` into a file member, showing each chunk to `seen` (e.g. a hasher), and
    /// returns its size. The size is known only at the end: a placeholder header is written
    /// first and rewritten with the size once the data is in.
    pub(super) fn stream_file(
        &mut self,
        name: &str,
        mut data: impl Read,
        mut seen: impl FnMut(&[u8]),
    ) -> io::Result<u64> {
        let header_at = self.out.stream_position()?;
        self.header(name, b'0', 0o644, 0)?;
        let mut size: u64 = 0;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            seen(&buf[..n]);
            self.out.write_all(&buf[..n])?;
            size += n as u64;
        }
        self.pad(size)?;
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(header_at))?;
        self.header(name, b'0', 0o644, size)?;
        self.out.seek(SeekFrom::Start(end))?;
        Ok(size)
    }

    /// The end-of-archive marker: two zero blocks.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(&[0u8; 1024])?;
        self.out.flush()
    }

    fn header(&mut self, name: &str, kind: u8, mode: u32, size: u64) -> io::Result<()> {
        assert!(name.len() < 100, "archive member names are short");
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let octal = |field: &mut [u8], value: u64| {
            let s = format!("{value:0width$o}", width = field.len() - 1);
            field[..s.len()].copy_from_slice(s.as_bytes());
        };
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        if size < 0o77777777777 {
            octal(&mut h[124..136], size);
        } else {
            // GNU base-256 for sizes of 8 GiB and more.
            h[124] = 0x80;
            h[128..136].copy_from_slice(&size.to_be_bytes());
        }
        octal(&mut h[136..148], self.mtime);
        h[148..156].fill(b' ');
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[265..269].copy_from_slice(b"root");
        h[297..301].copy_from_slice(b"root");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        self.out.write_all(&h)
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let rest = (512 - size % 512) % 512;
        self.out.write_all(&[0u8; 512][..rest as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::process::Command;

    #[test]
    fn large_sizes_use_base_256() {
        let mut out = Cursor::new(Vec::new());
        TarWriter::new(&mut out, 0).header("big", b'0', 0o644, 9 << 30).unwrap();
        let out = out.into_inner();
        assert_eq!(out[124], 0x80);
        assert_eq!(u64::from_be_bytes(out[128..136].try_into().unwrap()), 9 << 30);
    }

    #[test]
    fn gnu_tar_reads_what_it_writes() {
        let mut out = Cursor::new(Vec::new());
        let mut t = TarWriter::new(&mut out, 1_700_000_000);
        t.dir("d/").unwrap();
        let mut seen = 0;
        let size = t.stream_file("d/streamed", &[7u8; 1000][..], |chunk| seen += chunk.len()).unwrap();
        t.file("small.json", b"{}").unwrap();
        t.finish().unwrap();
        assert_eq!((size, seen), (1000, 1000));
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("t.tar");
        std::fs::write(&archive, out.into_inner()).unwrap();
        let listing = Command::new("tar").arg("-tvf").arg(&archive).env("TZ", "UTC").output().unwrap();
        assert!(listing.status.success());
        let listing = String::from_utf8(listing.stdout).unwrap();
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 3, "{listing}");
        assert!(lines[0].starts_with("drwxr-xr-x root/root") && lines[0].ends_with(" d/"), "{listing}");
        assert!(lines[1].starts_with("-rw-r--r-- root/root") && lines[1].contains(" 1000 "), "{listing}");
        assert!(lines[1].contains("2023-11-14") && lines[1].ends_with(" d/streamed"), "{listing}");
        assert!(lines[2].ends_with(" small.json"), "{listing}");
    }
}
