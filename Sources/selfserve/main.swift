import Foundation
import SelfServeShell

// The whole program: everything else lives in the modules, so that tests can drive the same code.
exit(SelfServeMain.run(Array(CommandLine.arguments.dropFirst())))
