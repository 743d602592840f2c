//! The two documents the first guide offers visitors (the tariff deliberation and the canteen's
//! rules), written as small one-page PDFs for the demo so that the login page has something to
//! download. A PDF's cross-reference table gives each object's byte offset, so the file is
//! assembled object by object and the offsets counted, not guessed.

/// A one-page A4 PDF with a title and lines of text (Latin-1 only: the standard Helvetica font's
/// encoding; other characters become `?`).
pub fn one_page_pdf(title: &str, lines: &[&str]) -> Vec<u8> {
    let mut text = String::from("BT /F1 16 Tf 56 780 Td (");
    text.push_str(&escape(title));
    text.push_str(") Tj /F1 11 Tf 0 -30 Td 15 TL");
    for line in lines {
        text.push_str(" (");
        text.push_str(&escape(line));
        text.push_str(") '");
    }
    text.push_str(" ET");
    let content = latin1(&text);
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
           /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        [
            format!("<< /Length {} >>\nstream\n", content.len()).into_bytes(),
            content,
            b"\nendstream".to_vec(),
        ]
        .concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

/// WinAnsi covers French letters; what it lacks becomes `?` (typographic apostrophes and
/// dashes are turned into their plain forms first).
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '’' => b'\'',
            '–' | '—' => b'-',
            c if (c as u32) < 0x100 => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cross_reference_table_points_at_each_object() {
        let pdf = one_page_pdf("Règlement (démo)", &["Ligne une", "Ligne deux"]);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        // Byte offsets: the text is read one byte to one char (WinAnsi bytes are not UTF-8).
        let text: String = pdf.iter().map(|&b| b as char).collect();
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|rest| rest.lines().next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(&pdf[startxref..startxref + 4], b"xref");
        let table: String = pdf[startxref..].iter().map(|&b| b as char).collect();
        for (i, line) in table.lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            let expected = format!("{} 0 obj", i + 1);
            assert_eq!(&pdf[offset..offset + expected.len()], expected.as_bytes());
        }
        // The title's accents are WinAnsi bytes, its parentheses escaped.
        assert!(pdf.windows(2).any(|w| w == [b'R', 0xE8]));
        assert!(text.contains("\\(d"));
    }
}
