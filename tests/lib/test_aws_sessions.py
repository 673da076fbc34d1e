import threading

from lib import aws


def test_each_thread_reuses_one_session_and_threads_do_not_share_it():
    first, again = aws._base_session(), aws._base_session()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(aws._base_session()))
    thread.start()
    thread.join()
    assert first is again
    assert seen[0] is not first


def test_assumed_credentials_get_their_own_session_per_key():
    one = {"aws_access_key_id": "AKIAONE", "aws_secret_access_key": "s", "aws_session_token": "t"}
    two = {**one, "aws_access_key_id": "AKIATWO"}
    assert aws._assumed_session(one) is aws._assumed_session(one)
    assert aws._assumed_session(two) is not aws._assumed_session(one)
    assert aws._assumed_session(two).get_credentials().access_key == "AKIATWO"
