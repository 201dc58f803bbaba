/// A parsed JSON value, just enough for file headers (safetensors): objects keep their key
/// order, numbers keep their literal text so integers convert exactly (`Int(text)`), and a
/// duplicate key is an error rather than "last one wins".
///
/// The parser is hand-written instead of `JSONSerialization` because headers come from files
/// that may be garbage: it checks every index itself (release builds use `-Ounchecked`, so no
/// bounds check would catch a slip), limits nesting to `maxDepth`, runs in one linear pass, and
/// reports the byte offset of the first error.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    /// The literal, validated against the JSON number grammar (RFC 8259 section 6).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    static let maxDepth = 64

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value as a non-negative integer, if it is an integer literal that fits in `Int`.
    var nonNegativeInt: Int? {
        guard case let .number(text) = self, let n = Int(text), n >= 0 else { return nil }
        return n
    }

    /// A short name of the value's kind for error messages.
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Parses one JSON text (surrounding whitespace allowed). `bytes` must already be valid
    /// UTF-8; the error message says what was expected and at which byte.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.pos == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// `text` as a JSON string literal: quotes, `\"`, `\\`, `\n`/`\r`/`\t`, `\u00XX` for other
    /// control characters; everything else (including non-ASCII) as raw UTF-8. Deterministic.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

struct JSONParseError: Error {
    let message: String
    let offset: Int
}

private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var pos = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ what: String) -> JSONParseError { JSONParseError(message: what, offset: pos) }

    /// The byte at `pos`, or nil at the end.
    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONParseError) {
        guard peek == byte else { throw error("expected \(what)") }
        pos += 1
    }

    mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        let n = word.utf8CodeUnitCount
        guard bytes.count - pos >= n else { throw error("invalid literal") }
        for i in 0..<n where bytes[pos + i] != word.utf8Start[i] { throw error("invalid literal") }
        pos += n
        return value
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < JSONValue.maxDepth else { throw error("nested deeper than \(JSONValue.maxDepth) levels") }
        guard let c = peek else { throw error("expected a value, found the end of the text") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("expected a value")
        }
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        pos += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if peek == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            let keyStart = pos
            guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            guard seen.insert(key).inserted else {
                throw JSONParseError(message: "duplicate key \(JSONValue.quoted(key))", offset: keyStart)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            guard let c = peek else { throw error("expected ',' or '}', found the end of the text") }
            pos += 1
            if c == UInt8(ascii: "}") { return .object(members) }
            guard c == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or '}'") }
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        pos += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { pos += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard let c = peek else { throw error("expected ',' or ']', found the end of the text") }
            pos += 1
            if c == UInt8(ascii: "]") { return .array(elements) }
            guard c == UInt8(ascii: ",") else { pos -= 1; throw error("expected ',' or ']'") }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = pos
        func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
        if peek == UInt8(ascii: "-") { pos += 1 }
        guard isDigit(peek) else { throw error("expected a digit") }
        if peek == UInt8(ascii: "0") {
            pos += 1
        } else {
            while isDigit(peek) { pos += 1 }
        }
        if peek == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(peek) else { throw error("expected a digit after '.'") }
            while isDigit(peek) { pos += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            pos += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(peek) else { throw error("expected a digit in the exponent") }
            while isDigit(peek) { pos += 1 }
        }
        return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self))
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw error("expected 4 hex digits after \\u") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("expected a hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    mutating func string() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: no escapes. The input is valid UTF-8 and every byte of a multi-byte
        // sequence is >= 0x80, so slicing between ASCII quotes keeps it valid.
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            guard c >= 0x20 else { throw error("control character in a string") }
            pos += 1
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<pos]))
        while true {
            guard pos < bytes.count else { throw error("unterminated string") }
            let c = bytes[pos]
            pos += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard c >= 0x20 else { pos -= 1; throw error("control character in a string") }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard pos < bytes.count else { throw error("unterminated escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if code >= 0xD800 && code < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("unpaired surrogate in \\u escape") }
                UTF8.encode(scalar) { out.append($0) }
            default:
                pos -= 1
                throw error("invalid escape")
            }
        }
    }
}
