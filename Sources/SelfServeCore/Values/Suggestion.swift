/// "Did you mean …?" for mistyped command, hook and field names.
public enum Suggestion {
    /// Levenshtein distance, two rows.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    /// The closest of `names` within a small distance (or the one `word` starts), if any.
    public static func closest(_ word: String, among names: [String]) -> String? {
        let lower = word.lowercased()
        if let (best, d) = names.map({ ($0, editDistance(lower, $0)) }).min(by: { $0.1 < $1.1 }),
            d <= max(2, best.count / 3)
        {
            return best
        }
        return lower.isEmpty ? nil : names.first { $0.hasPrefix(lower) }
    }
}
