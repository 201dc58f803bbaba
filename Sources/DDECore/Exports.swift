// The numeric core is part of DDECore's interface: the stages hand out models, buffers and
// losses, so `import DDECore` brings `DDENumerics` with it.
@_exported import DDENumerics
