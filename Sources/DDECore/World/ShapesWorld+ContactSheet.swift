extension ShapesWorld {
    /// The contact sheet's default columns: three clean variants, then every defect.
    public static let sheetColumns: [Defect?] = [nil, nil, nil] + Defect.allCases.map { $0 }

    /// A grid of renders: one row per prompt, one column per entry of `columns` (nil for clean),
    /// each cell upscaled `scale` times by nearest neighbour and framed by `gap` mid-gray pixels.
    ///
    /// Clean column j draws from `RandomStream(seed: seed, stream: row * 64 + j)`; every defect
    /// column draws from the stream of the row's first column, so each defect cell is the twin
    /// of that clean cell and shows only the defect's change.
    public static func contactSheet(prompts: [ShapesPrompt], size: Int = 16, seed: UInt64 = 1,
                                    columns: [Defect?] = sheetColumns, scale: Int = 8, gap: Int = 2) -> RGBImage {
        precondition(!prompts.isEmpty && !columns.isEmpty && scale >= 1 && gap >= 0)
        let renderer = ShapesRenderer(size: size)
        let cell = size * scale
        let width = columns.count * (cell + gap) + gap, height = prompts.count * (cell + gap) + gap
        var pixels = [UInt8](repeating: 96, count: width * height * 3)
        let firstClean = columns.firstIndex(where: { $0 == nil }) ?? 0
        for (row, prompt) in prompts.enumerated() {
            for (col, defect) in columns.enumerated() {
                var rng = RandomStream(seed: seed, stream: UInt64(row * 64 + (defect == nil ? col : firstClean)))
                let image = renderer.renderImage(prompt, defect: defect, rng: &rng)
                let x0 = gap + col * (cell + gap), y0 = gap + row * (cell + gap)
                for y in 0..<cell {
                    for x in 0..<cell {
                        let src = 3 * ((y / scale) * size + x / scale), dst = 3 * ((y0 + y) * width + x0 + x)
                        pixels[dst] = image.pixels[src]
                        pixels[dst + 1] = image.pixels[src + 1]
                        pixels[dst + 2] = image.pixels[src + 2]
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
