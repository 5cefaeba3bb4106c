import sys
print("python args", sys.argv[1:])
