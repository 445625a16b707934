#!/usr/bin/env python3
"""Issue 15's proof, read by Python's `email` package (not by outbox's code).

    python3 eightbit-compare.py ORIGINAL STORED

ORIGINAL is the 8-bit mail as it was given to outbox, STORED the file Dovecot
stored after outbox converted it to 7-bit for a server without 8BITMIME.
Prints one JSON object: what each side parses to (the headers the corpus sets,
and every leaf part's media type, file name and decoded octets, in order) and
`same`, whether they agree.

Octets are compared with line breaks as LF: a Maildir keeps LF, and a part that
was 8bit (line-oriented) and is now base64 carries its canonical CRLF inside.
The original's 8-bit header fields are read as UTF-8 when they are valid UTF-8,
else as ISO-8859-1 (what outbox declares for them, docs/eightbit.md); the
stored ones are decoded by `email` (RFC 2047 encoded words, RFC 2231 values).
"""
import email
import json
import re
import sys
from email import policy

HEADERS = ('subject', 'from', 'to', 'cc', 'x-note', 'content-description')


def squeeze(text):
    return re.sub(r'\s+', ' ', text).strip()


def original_header(value):
    raw = value.encode('ascii', 'surrogateescape')
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return raw.decode('iso-8859-1')


def headers(msg, original):
    out = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key in HEADERS:
            # The original's text goes through the same header parser, so both sides are rendered alike.
            out[key] = squeeze(str(policy.default.header_factory(name, original_header(value))) if original else str(msg[name]))
    return out


def summary(msg, original):
    entities = []
    for part in msg.walk():
        if part.is_multipart() and part.get_content_type() != 'message/rfc822':
            continue
        if part.get_content_type() == 'message/rfc822':
            inner = part.get_payload(0)
            entities.append({'message': headers(inner, original)})
            continue
        payload = part.get_payload(decode=True) or b''
        entities.append({
            'type': part.get_content_type(),
            'filename': part.get_filename(),
            'octets': payload.replace(b'\r\n', b'\n').decode('latin-1'),
        })
    return {'headers': headers(msg, original), 'parts': entities}


def main():
    with open(sys.argv[1], 'rb') as f:
        before = email.message_from_bytes(f.read(), policy=policy.default)
    with open(sys.argv[2], 'rb') as f:
        after = email.message_from_bytes(f.read(), policy=policy.default)
    a, b = summary(before, True), summary(after, False)
    print(json.dumps({'same': a == b, 'original': a, 'stored': b}, ensure_ascii=False))


main()
