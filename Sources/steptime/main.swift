import DDECore
import Foundation
Threads.configure(2)
for (ch, batch) in [([32, 64], 128), ([64, 128], 64)] {
    let tok = Tokenizer(captions: ShapesWorld.prompts.map(\.text), maxTokens: 8)
    let model = TextToImageModel(UNetConfig(blockOutChannels: ch, layersPerBlock: 1, normNumGroups: 8, sampleSize: 16), tokenizer: tok, encoderDimension: 32)
    var rng = RandomStream(seed: 1)
    model.initialize(&rng)
    let d = model.imageSize
    let x = FloatBuffer(count: batch * d); rng.fillNormal(x.pointer, count: batch * d)
    let steps = FloatBuffer(count: batch); for i in 0..<batch { steps.pointer[i] = Float(rng.int(below: 1000)) }
    let prompts = (0..<batch).map { ShapesWorld.prompts[$0 % 384].text }
    let dEps = FloatBuffer(count: batch * d); rng.fillNormal(dEps.pointer, count: batch * d)
    var f: [Double] = [], b: [Double] = []
    for _ in 0..<6 {
        let t0 = Stopwatch.now()
        model.predictNoise(x.pointer, steps: steps.pointer, prompts: prompts)
        let t1 = Stopwatch.now()
        model.store.zeroGrads()
        model.backward(dEps.pointer)
        let t2 = Stopwatch.now()
        f.append(t1 - t0); b.append(t2 - t1)
    }
    Profiler.enabled = true; Profiler.reset()
    model.predictNoise(x.pointer, steps: steps.pointer, prompts: prompts); model.backward(dEps.pointer)
    for (sec, t, c) in Profiler.report { print("   ", sec.rawValue, String(format: "%.1f ms", t * 1000), c) }
    Profiler.enabled = false
    print(ch, batch, "params", model.store.count, "fwd ms", TimingSummary(Array(f.dropFirst())).median * 1000, "bwd ms", TimingSummary(Array(b.dropFirst())).median * 1000)
}
