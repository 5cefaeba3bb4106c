//! The text being loaded, with a line index for turning parser positions
//! into lines of source (error context, position fix-ups).

pub(crate) struct SourceText<'a> {
    text: &'a str,
    /// Byte offset where each line starts; built on first use only.
    line_starts: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> SourceText<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        SourceText {
            text,
            line_starts: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(self.text.match_indices('\n').map(|(i, _)| i + 1));
            starts
        })
    }

    /// The text of a 1-based line, without its line break.
    pub(crate) fn line(&self, line: u32) -> Option<&'a str> {
        let starts = self.line_starts();
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *starts.get(index)?;
        let end = starts.get(index + 1).copied().unwrap_or(self.text.len());
        let raw = &self.text[start..end];
        Some(
            raw.strip_suffix('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .unwrap_or(raw),
        )
    }

    /// saphyr places an indentless block sequence (`key:\n- item`) at its first
    /// item's content; libyaml places it at the `-`. Walk back to the dash.
    pub(crate) fn block_entry_start(&self, line: u32, column: u32) -> (u32, u32) {
        let Some(text) = self.line(line) else {
            return (line, column);
        };
        let chars: Vec<char> = text.chars().collect();
        let mut index = usize::try_from(column).unwrap_or(0).saturating_sub(1);
        if chars.get(index) == Some(&'-') {
            return (line, column);
        }
        while index > 0 {
            index -= 1;
            match chars.get(index) {
                Some(' ') | Some('\t') => continue,
                Some('-') => return (line, u32::try_from(index).unwrap_or(0) + 1),
                _ => break,
            }
        }
        (line, column)
    }
}

impl SourceText<'_> {
    /// Where libyaml places "end of stream": just past the last character.
    pub(crate) fn end_mark(&self) -> (u32, u32) {
        let starts = self.line_starts();
        let last = starts.len();
        let last_start = starts.last().copied().unwrap_or(0);
        let column = self.text[last_start..].chars().count() + 1;
        (
            u32::try_from(last).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// The 1-based position of the last tab at or before `column` on `line`.
    pub(crate) fn last_tab_before(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        let text = self.line(line)?;
        let limit = usize::try_from(column).ok()?;
        let index = text
            .chars()
            .take(limit)
            .collect::<Vec<_>>()
            .iter()
            .rposition(|&c| c == '\t')?;
        Some((line, u32::try_from(index).ok()? + 1))
    }
}

impl SourceText<'_> {
    /// The first character after `from` that is not blank, a line break or
    /// an indicator (`- : ? ,`), stopping at `limit`: where a block scalar's
    /// header (`|`, `>`, or its tag/anchor) begins.
    pub(crate) fn block_scalar_header(&self, from: (u32, u32), limit: (u32, u32)) -> (u32, u32) {
        let (mut line, mut column) = from;
        while (line, column) < limit {
            let Some(text) = self.line(line) else { break };
            let index = usize::try_from(column).unwrap_or(1).saturating_sub(1);
            let found = text
                .chars()
                .enumerate()
                .skip(index)
                .find(|(_, c)| !matches!(c, ' ' | '\t' | '-' | ':' | '?' | ','));
            match found {
                Some((i, '#')) if i >= index => {}
                Some((i, _)) => {
                    let here = (line, u32::try_from(i).unwrap_or(0) + 1);
                    return if here < limit { here } else { limit };
                }
                None => {}
            }
            line += 1;
            column = 1;
        }
        limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_without_breaks() {
        let s = SourceText::new("a\r\nbb\n\nc");
        assert_eq!(s.line(1), Some("a"));
        assert_eq!(s.line(2), Some("bb"));
        assert_eq!(s.line(3), Some(""));
        assert_eq!(s.line(4), Some("c"));
        assert_eq!(s.line(5), None);
        assert_eq!(s.line(0), None);
    }

    #[test]
    fn finds_the_dash_of_an_indentless_sequence() {
        let s = SourceText::new("b:\n- x\n  - y\n");
        assert_eq!(s.block_entry_start(2, 3), (2, 1));
        assert_eq!(s.block_entry_start(3, 3), (3, 3));
    }
}
