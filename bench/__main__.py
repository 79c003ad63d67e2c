"""Run every benchmark in turn and print its figures."""

from . import case_list, intake, kdf, load, walk

if __name__ == "__main__":
    kdf.main()
    print()
    intake.main()
    print()
    case_list.main([])
    print()
    load.main([])
    print()
    walk.main()
