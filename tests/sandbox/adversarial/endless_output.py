# Assignment 1
import sys


def sigmoid(x):
    while True:  # print progress, forever
        print("still computing sigmoid..." * 100)
        print("WARNING: overflow in exp" * 100, file=sys.stderr)
