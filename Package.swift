// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric core use -Ounchecked and, on x86-64, target Haswell (AVX2, FMA):
// hot kernels are Float loops over unsafe buffers and need both to vectorise. Other CPUs (arm64)
// build for the compiler's default target (NEON there). The manifest is compiled for the machine
// that builds, so `arch` is the build machine's: a native build, as scripts/setup makes.
// -fno-math-errno lets squareRoot() become vsqrtps instead of a libm call that may set errno:
// the AdamW step went from 25.5 to 4.5 ms for 10M parameters with it.
#if arch(x86_64)
let targetCPU = ["-target-cpu", "haswell"]
#else
let targetCPU: [String] = []
#endif
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"] + targetCPU + ["-Xcc", "-fno-math-errno"], .when(configuration: .release)),
]

let package = Package(
    name: "dde-train",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dde-train", targets: ["dde-train"]),
        .library(name: "DDENumerics", targets: ["DDENumerics"]),
        .library(name: "DDECore", targets: ["DDECore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        // The numeric core: tensors, kernels, layers, the U-Net, the noise schedule and samplers,
        // the losses, the optimiser, random streams and the naive reference twins. It knows
        // nothing of configs, files, stages or reports; the compiler keeps it so.
        .target(
            name: "DDENumerics",
            dependencies: ["CBLAS"],
            swiftSettings: fastMath
        ),
        // The stages above it: config, data and world, annotators, pairs, training stages,
        // evaluation, IO, report, bench, cluster.
        .target(
            name: "DDECore",
            dependencies: ["DDENumerics", "CPNG", "CTurboJPEG"],
            swiftSettings: fastMath
        ),
        .executableTarget(
            name: "dde-train",
            dependencies: [
                "DDECore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fastMath
        ),
        .testTarget(
            name: "DDECoreTests",
            dependencies: ["DDECore", "DDENumerics"],
            swiftSettings: fastMath
        ),
    ]
)
