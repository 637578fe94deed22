import SelfServeShell; import CLua; import CSupport; import CEditline
