import Foundation

extension TextToImageModel {
    /// The model's content: its architecture, tokenizer and every weight (not the file it came
    /// from, whose metadata also names the run): what a fine-tune's or the pairs' signature
    /// records of the base model they start from. (The attention-free model's digest is what it
    /// was before the second architecture existed, so earlier runs' stages are still reused.)
    /// With LoRA adapters attached, their settings and weights count too (`baseDigest` leaves them out).
    public var contentDigest: ContentDigest { digest(includingAdapters: true) }

    /// The digest of the base alone: `contentDigest` without any LoRA adapters.
    public var baseDigest: ContentDigest { digest(includingAdapters: false) }

    private func digest(includingAdapters: Bool) -> ContentDigest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) -> String { String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) }
        var d = ContentDigest()
        switch architecture {
        case .unet2D(let config, let encoderDimension):
            d.add(json(config))
            d.add(json(tokenizer))
            d.add(String(encoderDimension))
        case .unet2DCondition(let config, let text):
            d.add(architecture.className)
            d.add(json(config))
            d.add(json(tokenizer))
            d.add(json(text))
        }
        d.add(store.params.pointer, count: store.count)
        if includingAdapters, let lora = store.lora {
            d.add("lora rank \(lora.settings.rank) alpha \(lora.settings.alpha)")
            for adapter in lora.adapters { d.add(adapter.module) }
            d.add(lora.store.params.pointer, count: lora.store.count)
        }
        return d
    }
}
