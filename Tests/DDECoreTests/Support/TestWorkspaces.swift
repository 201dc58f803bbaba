import DDECore

// Tests build what they compute in: a stage gets a workspace made from its own settings (its
// `threads` and `conv.winograd`), a model loaded only to be read or run once a fresh
// single-threaded one. These overloads keep that choice in one place; the code under test
// always takes its workspace explicitly.

extension Pretrainer {
    convenience init(settings: RunSettings, folder: String, build: BuildInfo, observer: StageObserver) {
        self.init(settings: settings, workspace: settings.makeWorkspace(), folder: folder, build: build, observer: observer)
    }
}

extension FineTuner {
    convenience init(settings: RunSettings, folder: String, build: BuildInfo, observer: StageObserver) {
        self.init(settings: settings, workspace: settings.makeWorkspace(), folder: folder, build: build, observer: observer)
    }
}

extension AnnotatorTrainer {
    convenience init(settings: RunSettings, folder: String, build: BuildInfo, observer: StageObserver) {
        self.init(settings: settings, workspace: settings.makeWorkspace(), folder: folder, build: build, observer: observer)
    }
}

extension Comparison {
    convenience init(settings: RunSettings, build: BuildInfo, observer: StageObserver) {
        self.init(settings: settings, workspace: settings.makeWorkspace(), build: build, observer: observer)
    }
}

extension TrainingBench {
    init(settings: RunSettings) {
        self.init(settings: settings, workspace: settings.makeWorkspace())
    }
}

extension Checkpoint {
    static func loadModel(_ path: String) throws -> (model: TextToImageModel, file: SafeTensorsReader) {
        try loadModel(path, workspace: Workspace())
    }
}

extension AnnotatorSet {
    static func load(folder: String) throws -> AnnotatorSet { try load(folder: folder, workspace: Workspace()) }
}

extension AlignClassifier {
    convenience init(channels: [Int] = defaultChannels, strides: [Int] = defaultStrides, featureCount: Int = 64,
                     channelsPerGroup: Int = 4) {
        self.init(channels: channels, strides: strides, featureCount: featureCount, channelsPerGroup: channelsPerGroup,
                  workspace: Workspace())
    }

    static func load(from path: String) throws -> (classifier: AlignClassifier, metadata: [String: String]) {
        try load(from: path, workspace: Workspace())
    }

    static func train(_ settings: AlignTraining) throws -> AlignTrainingResult {
        try train(settings, workspace: Workspace())
    }
}

extension TextToImageModel {
    convenience init(_ config: UNetConfig, tokenizer: Tokenizer, encoderDimension: Int) {
        self.init(config, tokenizer: tokenizer, encoderDimension: encoderDimension, workspace: Workspace())
    }
}

extension ModelSettings {
    func makeModel(captions: [String]) -> TextToImageModel { makeModel(captions: captions, workspace: Workspace()) }
}
