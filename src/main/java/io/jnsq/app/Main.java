package io.jnsq.app;
public final class Main { public static void main(String[] a) {} }
