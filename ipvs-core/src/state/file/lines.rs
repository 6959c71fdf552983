//! Positions in a file's text: line and column of a byte offset, for error messages.

/// Line and column (from 1; the column in characters) of a byte offset in `text`. An offset
/// past the end is the end; one inside a character is that character.
///
/// ```
/// use ipvs::state::line_of;
/// assert_eq!(line_of("ab\ncd", 4), (2, 2));
/// assert_eq!(line_of("é\nx", 100), (2, 2));
/// assert_eq!(line_of("é\nx", 1), (1, 1));
/// assert_eq!(line_of("", 0), (1, 1));
/// ```
pub fn line_of(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).at(text, offset)
}

/// Where each line of a text starts, so that placing many offsets costs a binary search and
/// the length of a line each, not a scan of everything before them.
#[derive(Debug, Clone)]
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    /// The line starts of `text`.
    pub fn new(text: &str) -> LineIndex {
        let starts =
            std::iter::once(0).chain(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex(starts.collect())
    }

    /// Line and column (from 1) of `offset` in `text` (the text these lines are of), as
    /// [`line_of`].
    pub fn at(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.0.partition_point(|s| *s <= offset).max(1);
        let start = self.0.get(line - 1).copied().unwrap_or(0);
        let column = text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }
}
