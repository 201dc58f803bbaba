/// A grid of equally sized images (rows x columns), each scaled up by nearest neighbour and
/// separated by a gap, for sample sheets.
public enum ImageGrid {
    public static func make(_ rows: [[RGBImage]], scale: Int = 4, gap: Int = 2,
                            background: (UInt8, UInt8, UInt8) = (255, 255, 255)) -> RGBImage {
        let columns = rows.map(\.count).max() ?? 0
        guard let first = rows.first?.first, columns > 0 else { return RGBImage(width: 1, height: 1) }
        let cw = first.width * scale, ch = first.height * scale
        let width = columns * cw + (columns + 1) * gap, height = rows.count * ch + (rows.count + 1) * gap
        var out = RGBImage(width: width, height: height, fill: background)
        for (r, row) in rows.enumerated() {
            for (c, image) in row.enumerated() {
                let x0 = gap + c * (cw + gap), y0 = gap + r * (ch + gap)
                for y in 0..<(image.height * scale) {
                    for x in 0..<(image.width * scale) {
                        let src = ((y / scale) * image.width + x / scale) * 3
                        let dst = ((y0 + y) * width + x0 + x) * 3
                        out.pixels[dst] = image.pixels[src]
                        out.pixels[dst + 1] = image.pixels[src + 1]
                        out.pixels[dst + 2] = image.pixels[src + 2]
                    }
                }
            }
        }
        return out
    }
}
