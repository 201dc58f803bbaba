import Foundation

/// One placed shape: kind, centre, scale radius and rotation, in pixel coordinates.
///
/// Image coordinates: x to the right, y down; pixel (i, j) covers [i, i+1) x [j, j+1), so its
/// centre is (i + 0.5, j + 0.5). The shape is defined in unit coordinates (the scale radius is 1)
/// and drawn at `centre + R(rotation) * radius * q`.
///
/// Unit geometry (chosen so that every kind has a similar visual weight and, at the renderer's
/// +-15 degree rotations, an axis extent of about 1):
/// - circle: radius 1;  ring: radius 1 with a hole of radius 0.5
/// - square: half side 0.85;  diamond: half diagonals 0.78 (across) and 1.1 (up)
/// - triangle: equilateral, half base 0.9, apex up, centred on its bounding box
/// - cross: two bars of half length 1 and half thickness 0.33
public struct ShapeInstance: Sendable, Equatable {
    public let kind: ShapeKind
    public let centreX: Float
    public let centreY: Float
    /// The scale radius in pixels.
    public let radius: Float
    /// Radians, counter-clockwise on screen.
    public let rotation: Float
    @usableFromInline let cosR: Float
    @usableFromInline let sinR: Float

    public init(kind: ShapeKind, centreX: Float, centreY: Float, radius: Float, rotation: Float) {
        self.kind = kind
        self.centreX = centreX
        self.centreY = centreY
        self.radius = radius
        self.rotation = rotation
        // Screen y points down, so a counter-clockwise turn on screen is a clockwise one in (x, y).
        cosR = Foundation.cos(rotation)
        sinR = -Foundation.sin(rotation)
    }

    /// The same shape with another centre.
    public func moved(toX x: Float, y: Float) -> ShapeInstance {
        ShapeInstance(kind: kind, centreX: x, centreY: y, radius: radius, rotation: rotation)
    }

    /// The same shape with another scale radius.
    public func resized(to r: Float) -> ShapeInstance {
        ShapeInstance(kind: kind, centreX: centreX, centreY: centreY, radius: r, rotation: rotation)
    }

    /// Signed Euclidean distance in pixels from (x, y) to the outline, negative inside.
    ///
    /// Exact for every kind (Inigo Quilez's 2D distance functions: circle, annulus, box,
    /// rhombus, triangle) except the cross, the union of two boxes, whose distance is exact
    /// outside and a lower bound inside near the four inner corners.
    @inlinable
    public func signedDistance(x: Float, y: Float) -> Float {
        let dx = x - centreX, dy = y - centreY
        // q = R(-rotation) (p - c) / radius
        let inv = 1 / radius
        let qx = (cosR * dx + sinR * dy) * inv
        let qy = (-sinR * dx + cosR * dy) * inv
        return Self.unitDistance(kind, qx, qy) * radius
    }

    /// Anti-aliased coverage of the pixel centred at (x, y) in [0, 1]: a linear ramp one pixel
    /// wide across the outline, `clamp(0.5 - distance, 0, 1)`, the area coverage of a pixel
    /// cut by a straight edge. Zero at every pixel centre half a pixel or more outside.
    @inlinable
    public func coverage(x: Float, y: Float) -> Float {
        min(max(0.5 - signedDistance(x: x, y: y), 0), 1)
    }

    /// Half the width and half the height of the shape's axis-aligned bounding box, in pixels.
    public var halfExtent: (x: Float, y: Float) {
        let unit = Self.unitVertices[kind.rawValue]
        guard !unit.isEmpty else { return (radius, radius) }  // round kinds
        var ex: Float = 0, ey: Float = 0
        let c = Foundation.cos(rotation), s = Foundation.sin(rotation)
        for v in unit {
            // The screen-space image of a unit vertex under the rotation used by signedDistance.
            ex = max(ex, abs(c * v.x + s * v.y))
            ey = max(ey, abs(-s * v.x + c * v.y))
        }
        return (ex * radius, ey * radius)
    }

    /// The distance from the centre to the farthest point of the shape, in pixels.
    public var circumradius: Float {
        let unit = Self.unitVertices[kind.rawValue]
        guard !unit.isEmpty else { return radius }
        var r2: Float = 0
        for v in unit { r2 = max(r2, v.x * v.x + v.y * v.y) }
        return r2.squareRoot() * radius
    }

    // MARK: unit geometry

    @usableFromInline static let squareHalf: Float = 0.85
    @usableFromInline static let diamondHalf = SIMD2<Float>(0.78, 1.1)
    @usableFromInline static let triangleHalfBase: Float = 0.9
    @usableFromInline static let crossHalfLength: Float = 1
    @usableFromInline static let crossHalfThickness: Float = 0.33
    @usableFromInline static let ringHole: Float = 0.5

    /// The outline's corners in unit coordinates (empty for the round kinds); used for extents.
    static let unitVertices: [[SIMD2<Float>]] = {
        let h = squareHalf, d = diamondHalf, b = triangleHalfBase, t = b * Float(3).squareRoot() / 2
        let l = crossHalfLength, k = crossHalfThickness
        return [
            [],
            [SIMD2(-h, -h), SIMD2(h, -h), SIMD2(h, h), SIMD2(-h, h)],
            [SIMD2(0, -t), SIMD2(b, t), SIMD2(-b, t)],
            [SIMD2(l, k), SIMD2(l, -k), SIMD2(-l, k), SIMD2(-l, -k), SIMD2(k, l), SIMD2(-k, l), SIMD2(k, -l), SIMD2(-k, -l)],
            [],
            [SIMD2(d.x, 0), SIMD2(-d.x, 0), SIMD2(0, d.y), SIMD2(0, -d.y)],
        ]
    }()

    @inlinable
    static func unitDistance(_ kind: ShapeKind, _ x: Float, _ y: Float) -> Float {
        switch kind {
        case .circle:
            return (x * x + y * y).squareRoot() - 1
        case .ring:
            let mid = (1 + ringHole) / 2, half = (1 - ringHole) / 2
            return abs((x * x + y * y).squareRoot() - mid) - half
        case .square:
            return box(x, y, squareHalf, squareHalf)
        case .cross:
            return min(box(x, y, crossHalfLength, crossHalfThickness), box(x, y, crossHalfThickness, crossHalfLength))
        case .diamond:
            return rhombus(x, y, diamondHalf.x, diamondHalf.y)
        case .triangle:
            let b = triangleHalfBase, t = b * 0.866_025_4
            return triangle(x, y, 0, -t, b, t, -b, t)
        }
    }

    @inlinable
    static func box(_ x: Float, _ y: Float, _ bx: Float, _ by: Float) -> Float {
        let dx = abs(x) - bx, dy = abs(y) - by
        let ox = max(dx, 0), oy = max(dy, 0)
        return (ox * ox + oy * oy).squareRoot() + min(max(dx, dy), 0)
    }

    /// Quilez's sdRhombus.
    @inlinable
    static func rhombus(_ x: Float, _ y: Float, _ bx: Float, _ by: Float) -> Float {
        let px = abs(x), py = abs(y)
        // ndot(b - 2p, b) / dot(b, b), with ndot(a, b) = a.x b.x - a.y b.y
        let h = min(max(((bx - 2 * px) * bx - (by - 2 * py) * by) / (bx * bx + by * by), -1), 1)
        let ex = px - 0.5 * bx * (1 - h), ey = py - 0.5 * by * (1 + h)
        let d = (ex * ex + ey * ey).squareRoot()
        return px * by + py * bx - bx * by < 0 ? -d : d
    }

    /// Quilez's sdTriangle for the triangle (x0, y0), (x1, y1), (x2, y2).
    @inlinable
    static func triangle(_ x: Float, _ y: Float, _ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float,
                         _ x2: Float, _ y2: Float) -> Float {
        let e0x = x1 - x0, e0y = y1 - y0, e1x = x2 - x1, e1y = y2 - y1, e2x = x0 - x2, e2y = y0 - y2
        let v0x = x - x0, v0y = y - y0, v1x = x - x1, v1y = y - y1, v2x = x - x2, v2y = y - y2
        let t0 = min(max((v0x * e0x + v0y * e0y) / (e0x * e0x + e0y * e0y), 0), 1)
        let t1 = min(max((v1x * e1x + v1y * e1y) / (e1x * e1x + e1y * e1y), 0), 1)
        let t2 = min(max((v2x * e2x + v2y * e2y) / (e2x * e2x + e2y * e2y), 0), 1)
        let q0x = v0x - e0x * t0, q0y = v0y - e0y * t0
        let q1x = v1x - e1x * t1, q1y = v1y - e1y * t1
        let q2x = v2x - e2x * t2, q2y = v2y - e2y * t2
        let s: Float = e0x * e2y - e0y * e2x < 0 ? -1 : 1
        let d = min(q0x * q0x + q0y * q0y, q1x * q1x + q1y * q1y, q2x * q2x + q2y * q2y)
        let side = min(s * (v0x * e0y - v0y * e0x), s * (v1x * e1y - v1y * e1x), s * (v2x * e2y - v2y * e2x))
        return side < 0 ? d.squareRoot() : -d.squareRoot()
    }
}
