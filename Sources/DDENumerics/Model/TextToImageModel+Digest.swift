import Foundation

extension TextToImageModel {
    /// The model's content: its architecture, tokenizer and every weight (not the file it came
    /// from, whose metadata also names the run): what a fine-tune's or the pairs' signature
    /// records of the base model they start from.
    public var contentDigest: ContentDigest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var d = ContentDigest()
        d.add(String(decoding: (try? encoder.encode(config)) ?? Data(), as: UTF8.self))
        d.add(String(decoding: (try? encoder.encode(self.encoder.tokenizer)) ?? Data(), as: UTF8.self))
        d.add(String(self.encoder.dimension))
        d.add(store.params.pointer, count: store.count)
        return d
    }
}
