// a test feature's script
